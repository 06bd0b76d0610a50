// Command kic-translate is a CLI oracle that reproduces exactly what
// internal/dataplane/kong_client_golden_test.go does for the "default" settings:
// it loads a multi-document YAML file with Kubernetes objects into a fake store,
// runs the real translator + KongClient.Update against an in-process mock Admin API
// (DB-less, in-memory strategy), and prints the configuration the mock received
// (as YAML, exactly what the golden test compares, or as JSON with -json).
//
// Helper code is copied from the _test.go files (test helpers are not importable).
//
// Gateway variant (kingress tools/kic-oracle-gateway): GatewayClass documents are loaded into the store's
// GatewayClass cache (KIC's YAML loader rejects them), and -gateway-controller-name sets
// translator.Config.GatewayControllerName, so getGatewayCerts can turn listener certificateRefs into
// certificates. Without GatewayClass documents and without the flag it behaves exactly like the shared oracle.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/blang/semver/v4"
	"github.com/go-logr/zapr"
	"github.com/kong/go-kong/kong"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/cmd/util"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kong/kubernetes-ingress-controller/v3/internal/adminapi"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/dataplane"
	dpconf "github.com/kong/kubernetes-ingress-controller/v3/internal/dataplane/config"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/dataplane/configfetcher"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/dataplane/deckgen"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/dataplane/fallback"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/dataplane/sendconfig"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/dataplane/translator"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/gatewayapi"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/manager/consts"
	"github.com/kong/kubernetes-ingress-controller/v3/internal/store"
	managercfg "github.com/kong/kubernetes-ingress-controller/v3/pkg/manager/config"
	"github.com/kong/kubernetes-ingress-controller/v3/test/mocks"
)

// fakeT implements the tb interface used by the copied mock Admin API handler.
type fakeT struct{ errors int }

func (*fakeT) Helper()             {}
func (*fakeT) Logf(string, ...any) {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors++
	fmt.Fprintf(os.Stderr, "mock admin API error: "+format+"\n", args...)
}
func (*fakeT) FailNow() { panic("mock admin API: FailNow") }

// defaultFeatureFlags is copied from kong_client_golden_test.go.
func defaultFeatureFlags() translator.FeatureFlags {
	defaults := managercfg.GetFeatureGatesDefaults()
	return translator.FeatureFlags{
		ReportConfiguredKubernetesObjects: false,
		FillIDs:                           defaults.Enabled(managercfg.FillIDsFeature),
		KongServiceFacade:                 defaults.Enabled(managercfg.KongServiceFacadeFeature),
		KongCustomEntity:                  defaults.Enabled(managercfg.KongCustomEntityFeature),
	}
}

// applySettings follows unmarshalSettingsFile in kong_client_golden_test.go: each feature_flags entry sets the
// translator.FeatureFlags field of that name.
func applySettings(flags *translator.FeatureFlags, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		die("reading settings: %v", err)
	}
	var settings struct {
		FeatureFlags map[string]bool `json:"feature_flags"`
	}
	if err := sigsyaml.Unmarshal(b, &settings); err != nil {
		die("parsing settings %s: %v", path, err)
	}
	for name, value := range settings.FeatureFlags {
		field := reflect.ValueOf(flags).Elem().FieldByName(name)
		if !field.IsValid() {
			die("settings %s: %s is not a translator.FeatureFlags field", path, name)
		}
		field.SetBool(value)
	}
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kic-translate: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	asJSON := flag.Bool("json", false, "print the declarative config as JSON (the body POSTed to /config) instead of YAML")
	benchN := flag.Int("bench", 0, "after loading, translate N more times; print median translation time and HeapInuse to stderr")
	skipUnsupported := flag.Bool("skip-unsupported", false, "drop documents whose kind KIC's CacheStores cannot hold (e.g. GatewayClass) instead of failing; off = golden-test behaviour")
	timeout := flag.Duration("timeout", 60*time.Second, "Admin API request timeout (the golden test uses 1s; it does not affect output)")
	settingsPath := flag.String("settings", "", "a golden-test settings file (<name>_settings.yaml): its feature_flags override the defaults, by translator.FeatureFlags field name, as the golden test applies them")
	kongVersion := flag.String("kong-version", "3.9.1", "the Kong version the translator targets (the golden test uses 3.9.1)")
	gatewayControllerName := flag.String("gateway-controller-name", "", "translator.Config.GatewayControllerName: Gateways whose GatewayClass has this spec.controllerName get their listener certificates translated (e.g. konghq.com/kic-gateway-controller); empty = as the golden test")
	clusterDomain := flag.String("cluster-domain", consts.DefaultClusterDomain, "translator.Config.ClusterDomain (KIC's --cluster-domain; default empty, as the golden test)")
	flag.Parse()
	if flag.NArg() != 1 {
		die("usage: kic-translate [-json] [-bench N] FILE")
	}
	path := flag.Arg(0)
	featureFlags := defaultFeatureFlags()
	if *settingsPath != "" {
		applySettings(&featureFlags, *settingsPath)
	}

	loadStart := time.Now()
	objects, err := extractObjectsFromYAML(path)
	if err != nil {
		die("%v", err)
	}
	objects, gatewayClasses, err := splitGatewayClasses(objects)
	if err != nil {
		die("%v", err)
	}
	if *skipUnsupported {
		objects = filterUnsupported(objects)
	}
	cacheStores, err := store.NewCacheStoresFromObjYAML(objects...)
	if err != nil {
		die("failed creating cache stores: %v", err)
	}
	for _, gwc := range gatewayClasses {
		if err := cacheStores.Add(gwc); err != nil {
			die("failed adding GatewayClass %s to the cache stores: %v", gwc.Name, err)
		}
	}
	var objectsToBeConsideredBroken []client.Object
	for _, s := range cacheStores.ListAllStores() {
		for _, o := range s.List() {
			o := o.(client.Object)
			if o.GetAnnotations()["test.konghq.com/broken"] == "true" {
				objectsToBeConsideredBroken = append(objectsToBeConsideredBroken, o)
			}
		}
	}
	loadDur := time.Since(loadStart)

	logger := zapr.NewLogger(zap.NewNop())
	s := store.New(cacheStores, "kong", logger)
	p, err := translator.NewTranslator(logger, s, "", semver.MustParse(*kongVersion), featureFlags, fakeSchemaServiceProvier{},
		translator.Config{
			ClusterDomain:         *clusterDomain,
			EnableDrainSupport:    consts.DefaultEnableDrainSupport,
			GatewayControllerName: *gatewayControllerName,
		},
	)
	if err != nil {
		die("failed creating translator: %v", err)
	}

	ft := &fakeT{}
	var adminAPIOpts []AdminAPIHandlerOpt
	if len(objectsToBeConsideredBroken) > 0 {
		adminAPIOpts = append(adminAPIOpts,
			WithConfigPostError(buildPostConfigErrorResponseWithBrokenObjects(objectsToBeConsideredBroken)),
			WithConfigPostErrorOnlyOnFirstRequest(),
		)
	}
	adminAPIHandler := newAdminAPIHandler(ft, adminAPIOpts...)
	adminAPIServer := httptest.NewServer(adminAPIHandler)
	defer adminAPIServer.Close()
	adminAPIClient, err := adminapi.NewTestClient(adminAPIServer.URL)
	if err != nil {
		die("%v", err)
	}

	cfg := sendconfig.Config{
		InMemory:              true,
		ExpressionRoutes:      featureFlags.ExpressionRoutes,
		FallbackConfiguration: len(objectsToBeConsideredBroken) > 0,
	}
	clientsProvider := &mockGatewayClientsProvider{gatewayClients: []*adminapi.Client{adminAPIClient}}
	updateStrategyResolver := sendconfig.NewDefaultUpdateStrategyResolver(cfg, logger)
	lastValidConfigFetcher := configfetcher.NewDefaultKongLastGoodConfigFetcher(featureFlags.FillIDs, "default")
	fallbackConfigGenerator := fallback.NewGenerator(fallback.NewDefaultCacheGraphProvider(), logger)
	kongClient, err := dataplane.NewKongClient(
		logger,
		*timeout,
		cfg,
		mocks.NewEventRecorder(),
		dpconf.DBModeOff,
		clientsProvider,
		updateStrategyResolver,
		sendconfig.NewKongGatewayConfigurationChangeDetector(logger),
		lastValidConfigFetcher,
		p,
		&cacheStores,
		fallbackConfigGenerator,
		mocks.MetricsRecorder{},
	)
	if err != nil {
		die("%v", err)
	}

	ctx := context.Background()
	updStart := time.Now()
	err = kongClient.Update(ctx)
	updDur := time.Since(updStart)
	if len(objectsToBeConsideredBroken) > 0 {
		if err == nil {
			die("expected an error when fallback configuration is enabled")
		}
	} else if err != nil {
		die("failed updating Kong configuration: %v", err)
	}

	if *asJSON {
		b := adminAPIHandler.PostedConfig()
		if b == nil {
			die("no configuration was received by the mock Admin API")
		}
		_, _ = os.Stdout.Write(b)
		_, _ = os.Stdout.Write([]byte("\n"))
	} else {
		resultB, err := adminAPIClient.AdminAPIClient().Config(ctx)
		if err != nil {
			die("fetching config: %v", err)
		}
		_, _ = os.Stdout.Write(resultB)
	}

	if *benchN > 0 {
		fmt.Fprintf(os.Stderr, "objects=%d load=%.1fms first_update(translate+deckgen+POST)=%.1fms\n",
			len(objects), ms(loadDur), ms(updDur))
		tr := make([]time.Duration, 0, *benchN)
		full := make([]time.Duration, 0, *benchN)
		for i := 0; i < *benchN; i++ {
			t0 := time.Now()
			res := p.BuildKongConfig()
			t1 := time.Now()
			content := deckgen.ToDeckContent(ctx, logger, res.KongState, deckgen.GenerateDeckContentParams{
				ExpressionRoutes:                cfg.ExpressionRoutes,
				PluginSchemas:                   adminAPIClient.PluginSchemaStore(),
				AppendStubEntityWhenConfigEmpty: cfg.InMemory,
			})
			b, err := json.Marshal(content)
			t2 := time.Now()
			if err != nil {
				die("marshal: %v", err)
			}
			_ = b
			tr = append(tr, t1.Sub(t0))
			full = append(full, t2.Sub(t0))
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(os.Stderr, "bench N=%d median BuildKongConfig=%.1fms median BuildKongConfig+deckgen+json.Marshal=%.1fms HeapInuse=%.1fMiB (runs: %s)\n",
			*benchN, ms(median(tr)), ms(median(full)), float64(m.HeapInuse)/(1<<20), fmtDurs(tr))
	}
	if ft.errors > 0 {
		os.Exit(2)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	c := append([]time.Duration(nil), ds...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

func fmtDurs(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.1f", ms(d))
	}
	return strings.Join(parts, ",")
}

// splitGatewayClasses takes the gateway.networking.k8s.io/v1 GatewayClass documents out of objects (KIC's
// store.NewCacheStoresFromObjYAML has no GatewayClass in mkObjFromGVK and rejects them, though CacheStores has a
// GatewayClass store) and decodes them, to be added to the cache stores directly.
func splitGatewayClasses(objects [][]byte) ([][]byte, []*gatewayapi.GatewayClass, error) {
	rest := objects[:0:0]
	var classes []*gatewayapi.GatewayClass
	for _, o := range objects {
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(o, &tm); err != nil ||
			tm.APIVersion != "gateway.networking.k8s.io/v1" || tm.Kind != "GatewayClass" {
			rest = append(rest, o)
			continue
		}
		gwc := &gatewayapi.GatewayClass{}
		if err := sigsyaml.Unmarshal(o, gwc); err != nil {
			return nil, nil, fmt.Errorf("decoding GatewayClass: %w", err)
		}
		classes = append(classes, gwc)
	}
	return rest, classes, nil
}

// filterUnsupported drops documents whose GroupVersionKind is rejected by store.NewCacheStoresFromObjYAML
// (checked once per GVK, on the first document of that kind), reporting what was dropped on stderr.
func filterUnsupported(objects [][]byte) [][]byte {
	supported := map[string]bool{}
	dropped := map[string]int{}
	out := objects[:0:0]
	for _, o := range objects {
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(o, &tm); err != nil {
			out = append(out, o)
			continue
		}
		key := tm.APIVersion + "/" + tm.Kind
		ok, seen := supported[key]
		if !seen {
			_, err := store.NewCacheStoresFromObjYAML(o)
			ok = err == nil || !strings.Contains(err.Error(), "is not a supported runtime.Object")
			supported[key] = ok
		}
		if ok {
			out = append(out, o)
		} else {
			dropped[key]++
		}
	}
	for k, n := range dropped {
		fmt.Fprintf(os.Stderr, "kic-translate: skipped %d unsupported %s document(s)\n", n, k)
	}
	return out
}

// extractObjectsFromYAML follows kong_client_golden_test.go, but splits only on document separator lines:
// the test's bytes.Split on "---" also cuts PEM blocks ("-----BEGIN CERTIFICATE-----") in stringData.
func extractObjectsFromYAML(filePath string) ([][]byte, error) {
	y, err := os.ReadFile(filePath)
	if err != nil {
		return nil, fmt.Errorf("failed reading input file: %s: %w", filePath, err)
	}
	f := util.ManualStrip(y)
	objects := docSeparator.Split(string(f), -1)
	out := [][]byte{}
	for _, o := range objects {
		if len(strings.TrimSpace(o)) > 0 {
			out = append(out, []byte(o))
		}
	}
	return out, nil
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// mockGatewayClientsProvider is copied from kong_client_test.go.
type mockGatewayClientsProvider struct {
	gatewayClients []*adminapi.Client
	dbMode         dpconf.DBMode
}

func (p *mockGatewayClientsProvider) GatewayClients() []*adminapi.Client {
	return p.gatewayClients
}

func (p *mockGatewayClientsProvider) GatewayClientsToConfigure() []*adminapi.Client {
	if p.dbMode.IsDBLessMode() {
		return p.gatewayClients
	}
	if len(p.gatewayClients) == 0 {
		return []*adminapi.Client{}
	}
	return p.gatewayClients[:1]
}

// fakeSchemaServiceProvier and fakeSchemaService are copied from kong_client_golden_test.go.
type fakeSchemaServiceProvier struct{}

func (p fakeSchemaServiceProvier) GetSchemaService() kong.AbstractSchemaService {
	return fakeSchemaService{}
}

type fakeSchemaService struct{}

func (f fakeSchemaService) Get(_ context.Context, entityType string) (kong.Schema, error) {
	switch entityType {
	case "degraphql_routes":
		return kong.Schema{
			"fields": []interface{}{
				map[string]interface{}{
					"service": map[string]interface{}{
						"type":      "foreign",
						"reference": "services",
					},
				},
			},
		}, nil
	default:
		return kong.Schema{}, nil
	}
}

func (f fakeSchemaService) Validate(context.Context, kong.EntityType, any) (bool, string, error) {
	return true, "", nil
}

// buildPostConfigErrorResponseWithBrokenObjects is copied from kong_client_golden_test.go.
func buildPostConfigErrorResponseWithBrokenObjects(brokenObjects []client.Object) []byte {
	var flattenedErrors []string
	for _, o := range brokenObjects {
		gvk := o.GetObjectKind().GroupVersionKind()
		flattenedError := fmt.Sprintf(`{"errors": [{"messages": ["broken object"]}], "entity_tags": ["k8s-name:%s","k8s-namespace:%s","k8s-kind:%s","k8s-group:%s", "k8s-version:%s", "k8s-uid:%s"]}`,
			o.GetName(), o.GetNamespace(), gvk.Kind, gvk.Group, gvk.Version, o.GetUID(),
		)
		flattenedErrors = append(flattenedErrors, flattenedError)
	}
	return []byte(fmt.Sprintf(`{"flattened_errors": [%s]}`, strings.Join(flattenedErrors, ",")))
}
