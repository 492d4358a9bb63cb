package check

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// rendered is the output of one kustomization, decoded into the API types.
type rendered struct {
	statefulSets    []*appsv1.StatefulSet
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	serviceAccounts map[string]*corev1.ServiceAccount
	pdbs            []*policyv1.PodDisruptionBudget
}

// render runs kustomize (the library kubectl -k is built on) over dir and
// decodes every object strictly: a field the API type does not have, a
// duplicate key or a kind this test does not know fails.
func render(dir string) (*rendered, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	r := &rendered{
		services:        map[string]*corev1.Service{},
		configMaps:      map[string]*corev1.ConfigMap{},
		secrets:         map[string]*corev1.Secret{},
		serviceAccounts: map[string]*corev1.ServiceAccount{},
	}
	for _, res := range m.Resources() {
		doc, err := res.AsYAML()
		if err != nil {
			return nil, err
		}
		gvk := res.GetApiVersion() + " " + res.GetKind()
		name := res.GetName()
		var obj any
		switch gvk {
		case "apps/v1 StatefulSet":
			s := &appsv1.StatefulSet{}
			r.statefulSets, obj = append(r.statefulSets, s), s
		case "v1 Service":
			s := &corev1.Service{}
			r.services[name], obj = s, s
		case "v1 ConfigMap":
			c := &corev1.ConfigMap{}
			r.configMaps[name], obj = c, c
		case "v1 Secret":
			s := &corev1.Secret{}
			r.secrets[name], obj = s, s
		case "v1 ServiceAccount":
			s := &corev1.ServiceAccount{}
			r.serviceAccounts[name], obj = s, s
		case "policy/v1 PodDisruptionBudget":
			p := &policyv1.PodDisruptionBudget{}
			r.pdbs, obj = append(r.pdbs, p), p
		default:
			return nil, fmt.Errorf("%s: %s %q: a kind this check does not know (add it to render)", dir, gvk, name)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w\n%s", dir, gvk, name, err, doc)
		}
	}
	return r, nil
}

// TestStrictDecodingCatchesUnknownFields keeps render honest: a misspelt
// field (kustomize passes it through) must fail, not vanish.
func TestStrictDecodingCatchesUnknownFields(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kustomization.yaml": "resources: [svc.yaml]\n",
		"svc.yaml":           "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  publishNotReadyAdresses: true\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := render(dir)
	if err == nil || !strings.Contains(err.Error(), "publishNotReadyAdresses") {
		t.Fatalf("render of a misspelt field: %v, want an unknown-field error naming it", err)
	}
}
