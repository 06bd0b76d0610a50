{{/* Names, labels and small pieces shared by the templates. */}}

{{- define "kingress.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The base name of every object: "<release>-kingress", or the release name alone when it already
contains the chart name. Kept short enough for the longest suffix ("-controller", 11 chars).
*/}}
{{- define "kingress.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kingress.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kingress.labels" -}}
helm.sh/chart: {{ include "kingress.chart" . }}
app.kubernetes.io/name: {{ include "kingress.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kingress.controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kingress.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "kingress.kong.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kingress.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "kingress.controller.fullname" -}}
{{- printf "%s-controller" (include "kingress.fullname" .) -}}
{{- end -}}

{{- define "kingress.kong.fullname" -}}
{{- printf "%s-gateway" (include "kingress.fullname" .) -}}
{{- end -}}

{{- define "kingress.kong.adminService" -}}
{{- printf "%s-kong-admin" (include "kingress.fullname" .) -}}
{{- end -}}

{{- define "kingress.kong.proxyService" -}}
{{- printf "%s-kong-proxy" (include "kingress.fullname" .) -}}
{{- end -}}

{{- define "kingress.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kingress.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* "repository:tag" or "repository@digest". Argument: dict "image" <values> "default" <tag>. */}}
{{- define "kingress.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .default (toString .image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* The admin API's container port and its port name (which tells kingress the scheme). */}}
{{- define "kingress.kong.adminPort" -}}
{{- if .Values.kong.admin.tls.enabled -}}8444{{- else -}}8001{{- end -}}
{{- end -}}

{{- define "kingress.kong.adminPortName" -}}
{{- if .Values.kong.admin.tls.enabled -}}admin-tls{{- else -}}admin{{- end -}}
{{- end -}}

{{/* The watched namespaces, validated, as a list. */}}
{{- define "kingress.watchNamespaces" -}}
{{- range .Values.watchNamespaces -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .) -}}
{{- fail (printf "watchNamespaces: %q is not a valid namespace name" .) -}}
{{- end -}}
{{- end -}}
{{- .Values.watchNamespaces | uniq | join "," -}}
{{- end -}}

{{/* A PodDisruptionBudget spec body (minAvailable, when set, wins). Argument: its values. */}}
{{- define "kingress.pdbSpec" -}}
{{- if not (kindIs "invalid" .minAvailable) }}
minAvailable: {{ .minAvailable }}
{{- else }}
maxUnavailable: {{ default 1 .maxUnavailable }}
{{- end }}
{{- end -}}

{{/* Kong's `stream_listen` for `kong.proxy.stream`, validated: "0.0.0.0:<containerPort> [udp|ssl]"
joined by ", ". Argument: the list. */}}
{{- define "kingress.kong.streamListen" -}}
{{- $listens := list -}}
{{- range . -}}
{{- if not (and .name .port .containerPort) -}}
{{- fail "kong.proxy.stream: each listener needs name, port and containerPort" -}}
{{- end -}}
{{- if not (has .protocol (list "TCP" "UDP")) -}}
{{- fail (printf "kong.proxy.stream %s: protocol must be TCP or UDP" .name) -}}
{{- end -}}
{{- if and .tls (ne .protocol "TCP") -}}
{{- fail (printf "kong.proxy.stream %s: tls needs protocol TCP" .name) -}}
{{- end -}}
{{- $flag := "" -}}
{{- if eq .protocol "UDP" }}{{ $flag = " udp" }}{{ end -}}
{{- if .tls }}{{ $flag = " ssl" }}{{ end -}}
{{- $listens = append $listens (printf "0.0.0.0:%v%s" .containerPort $flag) -}}
{{- end -}}
{{- join ", " $listens -}}
{{- end -}}

{{- define "kingress.redis.fullname" -}}
{{- printf "%s-redis" (include "kingress.fullname" .) -}}
{{- end -}}

{{- define "kingress.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kingress.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "kingress.redis.secretName" -}}
{{- default (include "kingress.redis.fullname" .) .Values.redis.auth.existingSecret -}}
{{- end -}}

{{/* Fails unless the cluster serves a Prometheus Operator kind. Argument: dict "root" $ "kind" <Kind> "value" <values key>. */}}
{{- define "kingress.requireMonitoring" -}}
{{- if not (.root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" .kind)) -}}
{{- fail (printf "%s needs the Prometheus Operator's %s CRD (monitoring.coreos.com/v1), which this cluster does not serve: install the operator's CRDs first (with helm template, pass --api-versions monitoring.coreos.com/v1/%s)" .value .kind .kind) -}}
{{- end -}}
{{- end -}}

{{/* The controller pods' metrics as the alerts select them: the PodMonitor's job. */}}
{{- define "kingress.metrics.controllerSelector" -}}
job="{{ .Release.Namespace }}/{{ include "kingress.controller.fullname" . }}"
{{- end -}}
