// Runs the upstream Gateway API conformance suite, unmodified, with the options its own flags
// give (conformance.DefaultOptions). tests/conformance.rs sets up the cluster and kingress and
// passes the flags; see README.md.
package conformance

import (
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	conformance.RunConformance(t)
}
