// Package check tests the deployment manifests under deploy/ against the
// ringcache binary they run.
//
// It is a module of its own (deploy/go.mod) so that the main module never
// depends on Kubernetes packages. The tests render the kustomize base and
// overlays with kustomize's own library (krusty), decode every object
// strictly into the k8s.io/api types (an unknown field fails), and check
// the node's arguments, environment, probes, ports, Services, the
// PodDisruptionBudget and the security context against the flags that
// `ringcache node --help` of a freshly built binary lists.
package check
