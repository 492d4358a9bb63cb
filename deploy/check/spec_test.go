package check

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// renderCase is one kustomization under deploy/kubernetes.
type renderCase struct {
	dir string
	// allowPending: the kustomization may use pendingIssue14's flags (the
	// TLS preview); every other one may not.
	allowPending bool
	// tls: the kustomization must have the TLS shape (--tls-*, a gossip
	// keyring, HTTPS probes and scrape).
	tls bool
	// externalSecrets are Secrets the operator creates (cert-manager, by
	// hand): referenced but not rendered.
	externalSecrets map[string]bool
}

func renderCases() []renderCase {
	return []renderCase{
		{dir: "../kubernetes/base"},
		{
			dir: "../kubernetes/overlays/tls", allowPending: true, tls: true,
			externalSecrets: map[string]bool{"ringcache-tls": true, "ringcache-gossip-key": true},
		},
	}
}

// envVar is one environment variable of the node's container and where
// its value comes from.
type envVar struct {
	literal   *string // value:, or a key of an envFrom ConfigMap
	fieldPath string  // fieldRef
	resource  string  // resourceFieldRef
	secret    string  // secretKeyRef or envFrom secretRef: the Secret
	configMap string  // configMapKeyRef or envFrom configMapRef
}

// nodeSpec is the ringcache node of one rendered kustomization, with its
// arguments and environment resolved.
type nodeSpec struct {
	c     renderCase
	flags nodeFlags
	r     *rendered
	sts   *appsv1.StatefulSet
	pod   *corev1.PodSpec
	ctr   *corev1.Container
	args  map[string][]string // flag name -> values given as --name=value
	env   map[string]envVar
}

// newNodeSpec finds the one StatefulSet and its ringcache container and
// resolves the container's arguments and environment, reporting what
// cannot be resolved.
func newNodeSpec(t reporter, c renderCase, flags nodeFlags, r *rendered) *nodeSpec {
	t.Helper()
	if len(r.statefulSets) != 1 {
		t.Fatalf("%d StatefulSets, want 1", len(r.statefulSets))
	}
	sts := r.statefulSets[0]
	pod := &sts.Spec.Template.Spec
	if len(pod.Containers) != 1 || pod.Containers[0].Name != "ringcache" {
		t.Fatalf("StatefulSet %s: want exactly one container named ringcache", sts.Name)
	}
	n := &nodeSpec{c: c, flags: flags, r: r, sts: sts, pod: pod, ctr: &pod.Containers[0], args: map[string][]string{}, env: map[string]envVar{}}
	n.resolveEnv(t)
	n.parseArgs(t)
	return n
}

// resolveEnv collects env and envFrom, checking that every Secret and
// ConfigMap they name is rendered (or external) and has the key.
func (n *nodeSpec) resolveEnv(t reporter) {
	t.Helper()
	add := func(name string, v envVar) {
		if _, dup := n.env[name]; dup {
			t.Errorf("env %s is set twice", name)
		}
		n.env[name] = v
	}
	for _, e := range n.ctr.Env {
		switch {
		case e.ValueFrom == nil:
			v := e.Value
			add(e.Name, envVar{literal: &v})
		case e.ValueFrom.FieldRef != nil:
			add(e.Name, envVar{fieldPath: e.ValueFrom.FieldRef.FieldPath})
		case e.ValueFrom.ResourceFieldRef != nil:
			add(e.Name, envVar{resource: e.ValueFrom.ResourceFieldRef.Resource})
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			n.checkSecretKey(t, ref.Name, ref.Key, "env "+e.Name)
			add(e.Name, envVar{secret: ref.Name})
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, ok := n.r.configMaps[ref.Name]
			if !ok {
				t.Errorf("env %s: ConfigMap %s is not rendered", e.Name, ref.Name)
			} else if _, ok := cm.Data[ref.Key]; !ok {
				t.Errorf("env %s: ConfigMap %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			add(e.Name, envVar{configMap: ref.Name})
		default:
			t.Errorf("env %s: a valueFrom this check does not know", e.Name)
		}
	}
	for _, from := range n.ctr.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := n.r.configMaps[from.ConfigMapRef.Name]
			if !ok {
				t.Errorf("envFrom: ConfigMap %s is not rendered", from.ConfigMapRef.Name)
				continue
			}
			for k, v := range cm.Data {
				add(from.Prefix+k, envVar{literal: &v, configMap: cm.Name})
			}
		case from.SecretRef != nil:
			s, ok := n.r.secrets[from.SecretRef.Name]
			if !ok {
				t.Errorf("envFrom: Secret %s is not rendered", from.SecretRef.Name)
				continue
			}
			for k := range secretKeys(s) {
				add(from.Prefix+k, envVar{secret: s.Name})
			}
		}
	}
}

// secretKeys are the keys of a rendered Secret.
func secretKeys(s *corev1.Secret) map[string]bool {
	keys := map[string]bool{}
	for k := range s.Data {
		keys[k] = true
	}
	for k := range s.StringData {
		keys[k] = true
	}
	return keys
}

// checkSecretKey reports a reference to a Secret that is neither rendered
// nor external, or to a key the rendered Secret lacks.
func (n *nodeSpec) checkSecretKey(t reporter, name, key, where string) {
	t.Helper()
	if n.c.externalSecrets[name] {
		return
	}
	s, ok := n.r.secrets[name]
	if !ok {
		t.Errorf("%s: Secret %s is neither rendered nor listed as external", where, name)
		return
	}
	if key != "" && !secretKeys(s)[key] {
		t.Errorf("%s: Secret %s has no key %s", where, name, key)
	}
}

// varRef is Kubernetes' $(VAR) in args.
var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// parseArgs checks that the container runs `node` with flags that
// `ringcache node` accepts, each as one --name[=value] argument.
func (n *nodeSpec) parseArgs(t reporter) {
	t.Helper()
	if len(n.ctr.Command) != 0 {
		t.Errorf("command %q: leave it to the image's ENTRYPOINT (/ringcache)", n.ctr.Command)
	}
	if len(n.ctr.Args) == 0 || n.ctr.Args[0] != "node" {
		t.Fatalf("args %q: want `node` first", n.ctr.Args)
	}
	pending := pendingIssue14()
	for _, a := range n.ctr.Args[1:] {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") {
			t.Errorf("arg %q: want --flag=value", a)
			continue
		}
		fl, known := n.flags[name]
		switch {
		case pending[name] && !n.c.allowPending:
			t.Errorf("arg %q: --%s is not implemented yet (issue 14): only the TLS preview overlay may use it", a, name)
		case pending[name]:
			// Reported by TestPendingFlags.
		case !known:
			t.Errorf("arg %q: ringcache node has no flag --%s", a, name)
		case fl.refused:
			t.Errorf("arg %q: ringcache node refuses --%s (not implemented yet)", a, name)
		case fl.isSwitch && hasValue:
			if _, err := strconv.ParseBool(value); err != nil {
				t.Errorf("arg %q: --%s is a switch: --%s or --%s=true|false", a, name, name, name)
			}
		case !fl.isSwitch && (!hasValue || value == ""):
			t.Errorf("arg %q: --%s takes a value: give it as --%s=VALUE in one argument", a, name, name)
		}
		if _, dup := n.args[name]; dup && name != "scope-quota" {
			t.Errorf("arg %q: --%s given twice", a, name)
		}
		n.args[name] = append(n.args[name], value)
		for _, m := range varRef.FindAllStringSubmatch(a, -1) {
			if _, ok := n.env[m[1]]; !ok {
				t.Errorf("arg %q: $(%s) is not an environment variable of the container (Kubernetes would pass it on unexpanded)", a, m[1])
			}
		}
	}
}

// setting is a flag's value as the node sees it: from args, else from its
// RINGCACHE_* environment variable when that is a literal or a ConfigMap
// value. ok is false when the flag is not set.
func (n *nodeSpec) setting(name string) (string, bool) {
	if v, ok := n.args[name]; ok {
		return v[len(v)-1], true
	}
	env := "RINGCACHE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if e, ok := n.env[env]; ok {
		if e.literal != nil {
			return *e.literal, true
		}
		return "(from " + e.secret + e.fieldPath + e.resource + ")", true
	}
	return "", false
}

// listenPort is the port of a --*-addr flag, which must listen on every
// interface: other pods and the kubelet's probes dial the pod IP.
func (n *nodeSpec) listenPort(t reporter, name string) int32 {
	t.Helper()
	v, ok := n.setting(name)
	if !ok {
		t.Errorf("--%s is not set: its default listens on loopback only", name)
		return 0
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		t.Errorf("--%s=%s: %v", name, v, err)
		return 0
	}
	if host != "0.0.0.0" && host != "::" && host != "" {
		t.Errorf("--%s=%s: listen on 0.0.0.0 (other pods and the kubelet dial the pod IP)", name, v)
	}
	p, err := strconv.ParseInt(port, 10, 32)
	if err != nil || p <= 0 {
		t.Errorf("--%s=%s: want a fixed port", name, v)
	}
	return int32(p)
}

// containerPort resolves a probe's or Service's target port (a name or a
// number) to the container's port, of protocol proto.
func (n *nodeSpec) containerPort(target intstr.IntOrString, proto corev1.Protocol) (corev1.ContainerPort, error) {
	for _, p := range n.ctr.Ports {
		pp := p.Protocol
		if pp == "" {
			pp = corev1.ProtocolTCP
		}
		if pp != proto {
			continue
		}
		if (target.Type == intstr.String && p.Name == target.StrVal) || (target.Type == intstr.Int && p.ContainerPort == target.IntVal) {
			return p, nil
		}
	}
	return corev1.ContainerPort{}, fmt.Errorf("no %s container port %s", proto, target.String())
}

// volumeAt finds the volume mounted at dir and whether it is a claim
// template (a PersistentVolumeClaim per pod).
func (n *nodeSpec) volumeAt(dir string) (m corev1.VolumeMount, v *corev1.Volume, claim bool, ok bool) {
	for _, m := range n.ctr.VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		for i := range n.pod.Volumes {
			if n.pod.Volumes[i].Name == m.Name {
				return m, &n.pod.Volumes[i], false, true
			}
		}
		claim := slices.ContainsFunc(n.sts.Spec.VolumeClaimTemplates, func(c corev1.PersistentVolumeClaim) bool { return c.Name == m.Name })
		return m, nil, claim, claim
	}
	return corev1.VolumeMount{}, nil, false, false
}
