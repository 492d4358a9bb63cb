package check

import (
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestManifests renders every kustomization and checks it against
// `ringcache node` (see the package doc).
func TestManifests(t *testing.T) {
	flags := loadNodeFlags(t)
	for _, c := range renderCases() {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			r, err := render(c.dir)
			if err != nil {
				t.Fatal(err)
			}
			n := newNodeSpec(t, c, flags, r)
			for _, check := range checks() {
				t.Run(check.name, func(t *testing.T) { check.fn(t, n) })
			}
		})
	}
}

// reporter is the part of testing.T the checks use, so that
// TestChecksCatchMistakes can run them on a recorder.
type reporter interface {
	Helper()
	Error(args ...any)
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// namedCheck is one area of TestManifests.
type namedCheck struct {
	name string
	fn   func(reporter, *nodeSpec)
}

func checks() []namedCheck {
	return []namedCheck{
		{"environment", checkEnvironment},
		{"identity", checkIdentity},
		{"listeners", checkListeners},
		{"probes", checkProbes},
		{"termination", checkTermination},
		{"join", checkJoin},
		{"services", checkServices},
		{"pdb", checkPDB},
		{"scheduling", checkScheduling},
		{"security", checkSecurity},
		{"volumes", checkVolumes},
		{"tls", checkTLS},
	}
}

// secretOnly are variables that must come from a Secret, never a literal
// or a ConfigMap.
var secretOnly = []string{"RINGCACHE_S3_KEYS", "RINGCACHE_GOSSIP_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// checkEnvironment: every RINGCACHE_* variable is a flag's, none is set
// both ways, switches get booleans, secrets come from Secrets, and what the
// node requires is there.
func checkEnvironment(t reporter, n *nodeSpec) {
	pending := pendingIssue14()
	for name, e := range n.env {
		if !strings.HasPrefix(name, "RINGCACHE_") {
			continue
		}
		fl, ok := n.flags.byEnv(name)
		if !ok {
			flagName := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "RINGCACHE_"), "_", "-"))
			if pending[flagName] && n.c.allowPending {
				continue
			}
			t.Errorf("env %s: no flag of ringcache node reads it", name)
			continue
		}
		if fl.refused {
			t.Errorf("env %s: ringcache node refuses --%s (not implemented yet)", name, fl.name)
		}
		if _, both := n.args[fl.name]; both {
			t.Errorf("--%s is set in args and in env %s: say it once", fl.name, name)
		}
		if fl.isSwitch && e.literal != nil {
			if _, err := strconv.ParseBool(*e.literal); err != nil {
				t.Errorf("env %s=%q: --%s is a switch: true or false", name, *e.literal, fl.name)
			}
		}
	}
	for _, name := range secretOnly {
		if e, ok := n.env[name]; ok && e.secret == "" {
			t.Errorf("env %s: take it from a Secret, not a literal or a ConfigMap", name)
		}
	}
	if _, ok := n.setting("understore"); !ok {
		t.Error("--understore (required) is set neither in args nor in env")
	}
	// The node refuses an S3 gateway with SigV4 and no keys.
	if _, ok := n.setting("s3-addr"); ok {
		auth, _ := n.setting("s3-auth")
		if _, keys := n.setting("s3-keys"); auth != "none" && !keys {
			t.Error("--s3-addr with SigV4 (the default) needs --s3-keys (RINGCACHE_S3_KEYS from a Secret)")
		}
	}
}

// checkIdentity: the pod's name is the node id, its IP what it advertises.
func checkIdentity(t reporter, n *nodeSpec) {
	wantField := func(env, fieldPath string) {
		if e, ok := n.env[env]; !ok || e.fieldPath != fieldPath {
			t.Errorf("env %s: want the downward API's %s", env, fieldPath)
		}
	}
	if v, _ := n.setting("id"); v != "$(POD_NAME)" {
		t.Errorf("--id=%q: want $(POD_NAME): a StatefulSet's stable pod name is the node's stable name", v)
	}
	wantField("POD_NAME", "metadata.name")
	if v, _ := n.setting("advertise-host"); v != "$(POD_IP)" {
		t.Errorf("--advertise-host=%q: want $(POD_IP)", v)
	}
	wantField("POD_IP", "status.podIP")
	if n.sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("podManagementPolicy %q: the base starts peers in parallel (see the comment in statefulset.yaml)", n.sts.Spec.PodManagementPolicy)
	}
	podLabels := labels.Set(n.sts.Spec.Template.Labels)
	if !selects(t, "StatefulSet selector", n.sts.Spec.Selector, podLabels) {
		t.Error("the StatefulSet's selector does not select its own pods")
	}
}

// checkListeners: every listener is on all interfaces and has a named
// container port of the right protocol; no container port is stray.
func checkListeners(t reporter, n *nodeSpec) {
	want := map[string][]corev1.Protocol{
		"grpc-addr":   {corev1.ProtocolTCP},
		"gossip-addr": {corev1.ProtocolTCP, corev1.ProtocolUDP},
		"http-addr":   {corev1.ProtocolTCP},
	}
	if _, ok := n.setting("s3-addr"); ok {
		want["s3-addr"] = []corev1.Protocol{corev1.ProtocolTCP}
	}
	used := map[string]bool{}
	for flagName, protos := range want {
		port := n.listenPort(t, flagName)
		for _, proto := range protos {
			p, err := n.containerPort(intstr.FromInt32(port), proto)
			if err != nil {
				t.Errorf("--%s port %d: %v", flagName, port, err)
				continue
			}
			if p.Name == "" {
				t.Errorf("container port %d/%s: give it a name (Services and probes refer to it)", port, proto)
			}
			used[p.Name+"/"+string(proto)] = true
		}
	}
	for _, p := range n.ctr.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if !used[p.Name+"/"+string(proto)] {
			t.Errorf("container port %s %d/%s: no listener flag opens it", p.Name, p.ContainerPort, proto)
		}
	}
	// Scraping: the annotations Prometheus' kubernetes_sd relabelling
	// conventionally reads, or a port named metrics.
	ann := n.sts.Spec.Template.Annotations
	httpPort := n.listenPort(t, "http-addr")
	if _, noMetricsPort := n.containerPort(intstr.FromString("metrics"), corev1.ProtocolTCP); noMetricsPort != nil {
		if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(int(httpPort)) || ann["prometheus.io/path"] != "/metrics" {
			t.Errorf("pod annotations %v: want prometheus.io/scrape true, port %d, path /metrics", ann, httpPort)
		}
	}
	if scheme := ann["prometheus.io/scheme"]; n.tlsOn() != (scheme == "https") {
		t.Errorf("prometheus.io/scheme %q with TLS %v: HTTPS exactly when TLS is on", scheme, n.tlsOn())
	}
}

// tlsOn: the node serves TLS (its HTTP listener speaks HTTPS).
func (n *nodeSpec) tlsOn() bool {
	_, ok := n.setting("tls-cert")
	return ok
}

// checkProbes: startup and liveness on /healthz, readiness on /readyz, all
// on the --http-addr port; startup tolerant of a long journal replay.
func checkProbes(t reporter, n *nodeSpec) {
	httpPort := n.listenPort(t, "http-addr")
	wantScheme := corev1.URISchemeHTTP
	if n.tlsOn() {
		wantScheme = corev1.URISchemeHTTPS
	}
	probe := func(what string, p *corev1.Probe, path string) {
		if p == nil {
			t.Errorf("%s: missing", what)
			return
		}
		if p.Exec != nil || p.HTTPGet == nil {
			t.Errorf("%s: want httpGet (the image has no shell)", what)
			return
		}
		if p.HTTPGet.Path != path {
			t.Errorf("%s: path %q, want %s", what, p.HTTPGet.Path, path)
		}
		cp, err := n.containerPort(p.HTTPGet.Port, corev1.ProtocolTCP)
		if err != nil || cp.ContainerPort != httpPort {
			t.Errorf("%s: port %s is not the --http-addr port %d (%v)", what, p.HTTPGet.Port.String(), httpPort, err)
		}
		scheme := p.HTTPGet.Scheme
		if scheme == "" {
			scheme = corev1.URISchemeHTTP
		}
		if scheme != wantScheme {
			t.Errorf("%s: scheme %s, want %s", what, scheme, wantScheme)
		}
	}
	probe("startupProbe", n.ctr.StartupProbe, "/healthz")
	probe("livenessProbe", n.ctr.LivenessProbe, "/healthz")
	probe("readinessProbe", n.ctr.ReadinessProbe, "/readyz")
	// The HTTP listener opens only after the journal replay.
	if p := n.ctr.StartupProbe; p != nil {
		period, failures := int32(10), int32(3) // the API's defaults
		if p.PeriodSeconds > 0 {
			period = p.PeriodSeconds
		}
		if p.FailureThreshold > 0 {
			failures = p.FailureThreshold
		}
		if period*failures < 600 {
			t.Errorf("startupProbe allows %d s before liveness takes over: a large journal replays for longer; allow at least 600 s", period*failures)
		}
	}
}

// checkTermination: SIGTERM leaves the ring within seconds; the preStop
// pause must work in a FROM scratch image and fit the grace period.
func checkTermination(t reporter, n *nodeSpec) {
	grace := int64(30)
	if g := n.pod.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	} else {
		t.Error("terminationGracePeriodSeconds: set it (graceful leave needs a few seconds after preStop)")
	}
	if grace < 20 {
		t.Errorf("terminationGracePeriodSeconds %d: too short for preStop plus a graceful leave", grace)
	}
	lc := n.ctr.Lifecycle
	if lc == nil || lc.PreStop == nil || lc.PreStop.Sleep == nil {
		t.Fatal("preStop: want the sleep action (the image has no shell and no sleep binary)")
	}
	if lc.PreStop.Exec != nil || (lc.PostStart != nil && lc.PostStart.Exec != nil) {
		t.Error("lifecycle exec handlers cannot run: the image is FROM scratch")
	}
	if s := lc.PreStop.Sleep.Seconds; s < 1 || s+10 > grace {
		t.Errorf("preStop sleeps %d s of a %d s grace period: keep 10 s for the graceful leave", s, grace)
	}
}

// joinHost is a pod's name under the headless Service, as --join spells it.
var joinHost = regexp.MustCompile(`^([a-z0-9-]+)-([0-9]+)\.([a-z0-9-]+)\.\$\(POD_NAMESPACE\)\.svc\.cluster\.local$`)

// checkJoin: --join names this StatefulSet's pods under its headless
// Service, at the gossip port.
func checkJoin(t reporter, n *nodeSpec) {
	v, ok := n.setting("join")
	if !ok || v == "" {
		t.Fatal("--join is not set: the nodes would never find each other")
	}
	if e, ok := n.env["POD_NAMESPACE"]; !ok || e.fieldPath != "metadata.namespace" {
		t.Error("env POD_NAMESPACE: want the downward API's metadata.namespace")
	}
	gossip := strconv.Itoa(int(n.listenPort(t, "gossip-addr")))
	replicas := int32(1)
	if n.sts.Spec.Replicas != nil {
		replicas = *n.sts.Spec.Replicas
	}
	if svc, ok := n.r.services[n.sts.Spec.ServiceName]; !ok || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("serviceName %q: no headless Service of that name is rendered", n.sts.Spec.ServiceName)
	}
	for _, addr := range strings.Split(v, ",") {
		host, port, err := splitHostPortVars(addr)
		if err != nil {
			t.Errorf("--join %q: %v", addr, err)
			continue
		}
		if port != gossip {
			t.Errorf("--join %q: port %s, want the gossip port %s", addr, port, gossip)
		}
		m := joinHost.FindStringSubmatch(host)
		if m == nil {
			t.Errorf("--join %q: want POD.SERVICE.$(POD_NAMESPACE).svc.cluster.local", addr)
			continue
		}
		ord, _ := strconv.Atoi(m[2])
		if m[1] != n.sts.Name || m[3] != n.sts.Spec.ServiceName {
			t.Errorf("--join %q: names pod %s-N of Service %s, want %s-N of %s", addr, m[1], m[3], n.sts.Name, n.sts.Spec.ServiceName)
		}
		if int32(ord) >= replicas {
			t.Errorf("--join %q: ordinal %d, but replicas is %d", addr, ord, replicas)
		}
	}
}

// splitHostPortVars splits host:port where host may hold $(VAR).
func splitHostPortVars(addr string) (host, port string, err error) {
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 || i == len(addr)-1 {
		return "", "", strconv.ErrSyntax
	}
	return addr[:i], addr[i+1:], nil
}

// checkServices: the headless Service publishes gossip (TCP and UDP) and
// gRPC before readiness; a client Service has gRPC, HTTP and S3; every
// Service port is a container port of the same number and protocol.
func checkServices(t reporter, n *nodeSpec) {
	podLabels := labels.Set(n.sts.Spec.Template.Labels)
	ports := func(svc *corev1.Service) map[string]bool {
		have := map[string]bool{}
		for _, p := range svc.Spec.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			cp, err := n.containerPort(target, proto)
			switch {
			case err != nil:
				t.Errorf("Service %s port %s: %v", svc.Name, p.Name, err)
			case cp.ContainerPort != p.Port:
				t.Errorf("Service %s port %s: %d, container port %d: keep the numbers equal (nodes advertise the container ports)", svc.Name, p.Name, p.Port, cp.ContainerPort)
			default:
				have[cp.Name+"/"+string(proto)] = true
			}
		}
		return have
	}
	var clients int
	for _, svc := range n.r.services {
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("Service %s: its selector %v does not select the ringcache pods", svc.Name, svc.Spec.Selector)
		}
		have := ports(svc)
		if svc.Name == n.sts.Spec.ServiceName {
			if !svc.Spec.PublishNotReadyAddresses {
				t.Errorf("Service %s: publishNotReadyAddresses must be true: a node joins by gossip before it is ready", svc.Name)
			}
			for _, p := range []string{"gossip/TCP", "gossip-udp/UDP", "grpc/TCP"} {
				if !have[p] {
					t.Errorf("headless Service %s: no port for container port %s", svc.Name, p)
				}
			}
			continue
		}
		clients++
		if svc.Spec.ClusterIP == corev1.ClusterIPNone {
			t.Errorf("Service %s: a client Service should balance (not headless)", svc.Name)
		}
		if svc.Spec.PublishNotReadyAddresses {
			t.Errorf("Service %s: clients must reach ready nodes only", svc.Name)
		}
		want := []string{"grpc/TCP", "http/TCP"}
		if _, ok := n.setting("s3-addr"); ok {
			want = append(want, "s3/TCP")
		}
		for _, p := range want {
			if !have[p] {
				t.Errorf("client Service %s: no port for container port %s", svc.Name, p)
			}
		}
	}
	if clients == 0 {
		t.Error("no client Service (gRPC seeds, S3, HTTP)")
	}
}

// selects reports whether a label selector selects set.
func selects(t reporter, what string, sel *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	if sel == nil {
		t.Errorf("%s: missing", what)
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return false
	}
	return !s.Empty() && s.Matches(set)
}

// checkPDB: one PodDisruptionBudget, one pod at a time, over these pods.
func checkPDB(t reporter, n *nodeSpec) {
	if len(n.r.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(n.r.pdbs))
	}
	pdb := n.r.pdbs[0]
	if mu := pdb.Spec.MaxUnavailable; mu == nil || mu.Type != intstr.Int || mu.IntVal != 1 || pdb.Spec.MinAvailable != nil {
		t.Errorf("PodDisruptionBudget %s: want maxUnavailable 1 (and no minAvailable)", pdb.Name)
	}
	if !selects(t, "PodDisruptionBudget selector", pdb.Spec.Selector, labels.Set(n.sts.Spec.Template.Labels)) {
		t.Errorf("PodDisruptionBudget %s does not select the StatefulSet's pods", pdb.Name)
	}
}

// checkScheduling: spread over hosts, resources requested, no service
// links in the environment.
func checkScheduling(t reporter, n *nodeSpec) {
	podLabels := labels.Set(n.sts.Spec.Template.Labels)
	spread := false
	if a := n.pod.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			term := w.PodAffinityTerm
			if term.TopologyKey == "kubernetes.io/hostname" && w.Weight > 0 && selects(t, "anti-affinity selector", term.LabelSelector, podLabels) {
				spread = true
			}
		}
	}
	if !spread {
		t.Error("want a preferred pod anti-affinity over kubernetes.io/hostname selecting the ringcache pods")
	}
	res := n.ctr.Resources
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := res.Requests[r]; !ok || q.Sign() <= 0 {
			t.Errorf("resources.requests.%s: missing", r)
		}
	}
	limit, ok := res.Limits[corev1.ResourceMemory]
	if !ok || limit.Sign() <= 0 {
		t.Error("resources.limits.memory: missing")
	} else if req := res.Requests[corev1.ResourceMemory]; req.Cmp(limit) > 0 {
		t.Error("resources: memory request above its limit")
	}
	if n.pod.EnableServiceLinks == nil || *n.pod.EnableServiceLinks {
		t.Error("enableServiceLinks must be false: the Service ringcache would put RINGCACHE_PORT and friends into the flags' environment")
	}
}

// checkSecurity: non-root with a fixed UID, read-only root filesystem, no
// privilege escalation, no capabilities, RuntimeDefault seccomp, no API
// token.
func checkSecurity(t reporter, n *nodeSpec) {
	ps := n.pod.SecurityContext
	if ps == nil {
		t.Fatal("pod securityContext: missing")
	}
	if ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
		t.Error("pod securityContext.runAsNonRoot: want true")
	}
	// The image names no user: the pod must pick one.
	if ps.RunAsUser == nil || *ps.RunAsUser == 0 || ps.RunAsGroup == nil || *ps.RunAsGroup == 0 {
		t.Error("pod securityContext: want a fixed non-root runAsUser and runAsGroup")
	}
	if ps.FSGroup == nil || *ps.FSGroup == 0 {
		t.Error("pod securityContext.fsGroup: want one, so the volume is writable by the node's group")
	}
	cs := n.ctr.SecurityContext
	if cs == nil {
		t.Fatal("container securityContext: missing")
	}
	seccomp := ps.SeccompProfile
	if cs.SeccompProfile != nil {
		seccomp = cs.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("seccompProfile: want RuntimeDefault")
	}
	if cs.RunAsUser != nil && *cs.RunAsUser == 0 {
		t.Error("container securityContext.runAsUser 0")
	}
	if cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
		t.Error("container securityContext.allowPrivilegeEscalation: want false")
	}
	if cs.Privileged != nil && *cs.Privileged {
		t.Error("container securityContext.privileged: want false")
	}
	if cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
		t.Error("container securityContext.readOnlyRootFilesystem: want true")
	}
	if cs.Capabilities == nil || len(cs.Capabilities.Add) > 0 || len(cs.Capabilities.Drop) != 1 || cs.Capabilities.Drop[0] != "ALL" {
		t.Error("container securityContext.capabilities: want drop [ALL] and nothing added")
	}
	if p := n.pod.AutomountServiceAccountToken; p == nil || *p {
		t.Error("pod automountServiceAccountToken: want false (the node never calls the API)")
	}
	sa, ok := n.r.serviceAccounts[n.pod.ServiceAccountName]
	if !ok {
		t.Errorf("serviceAccountName %q: not rendered", n.pod.ServiceAccountName)
	} else if p := sa.AutomountServiceAccountToken; p == nil || *p {
		t.Errorf("ServiceAccount %s: automountServiceAccountToken: want false", sa.Name)
	}
}

// checkVolumes: --data-dir is a PersistentVolumeClaim per pod, /tmp is
// writable under the read-only root, every mount has its volume, and every
// Secret volume exists.
func checkVolumes(t reporter, n *nodeSpec) {
	dataDir, _ := n.setting("data-dir")
	if _, _, claim, ok := n.volumeAt(dataDir); !ok || !claim {
		t.Errorf("--data-dir=%s: want a volumeClaimTemplate mounted there (a PersistentVolumeClaim per pod)", dataDir)
	}
	for _, c := range n.sts.Spec.VolumeClaimTemplates {
		if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.Sign() <= 0 {
			t.Errorf("volumeClaimTemplate %s: no storage request", c.Name)
		}
		if len(c.Spec.AccessModes) != 1 || c.Spec.AccessModes[0] != corev1.ReadWriteOnce {
			t.Errorf("volumeClaimTemplate %s: want ReadWriteOnce (one node per volume)", c.Name)
		}
	}
	if _, v, _, ok := n.volumeAt("/tmp"); !ok || v == nil || v.EmptyDir == nil {
		t.Error("/tmp: want an emptyDir (the root filesystem is read-only)")
	}
	for _, m := range n.ctr.VolumeMounts {
		if _, _, _, ok := n.volumeAt(m.MountPath); !ok {
			t.Errorf("volumeMount %s at %s: no such volume or claim template", m.Name, m.MountPath)
		}
	}
	for _, v := range n.pod.Volumes {
		if v.Secret != nil {
			n.checkSecretKey(t, v.Secret.SecretName, "", "volume "+v.Name)
		}
	}
}

// checkTLS: the TLS files are the items of mounted Secret volumes, and the
// gossip keyring is a file on the data volume (a Secret mount is
// read-only: keyring rotation persists every change to the file) seeded by
// --gossip-key from a Secret; with renderCase.tls all of them are set,
// else none.
func checkTLS(t reporter, n *nodeSpec) {
	if file, set := n.setting("gossip-keyring"); set != n.c.tls {
		t.Errorf("--gossip-keyring set: %v, want %v in %s", set, n.c.tls, n.c.dir)
	} else if set {
		dataDir, _ := n.setting("data-dir")
		if path.Dir(file) != path.Clean(dataDir) {
			t.Errorf("--gossip-keyring=%s: keep the keyring on the data volume (%s): a rotation must persist", file, dataDir)
		}
		if _, seeded := n.setting("gossip-key"); !seeded {
			t.Errorf("--gossip-keyring without --gossip-key (RINGCACHE_GOSSIP_KEY from a Secret) to create it on first start")
		}
	}
	for _, name := range []string{"tls-cert", "tls-key", "tls-ca"} {
		file, set := n.setting(name)
		if set != n.c.tls {
			t.Errorf("--%s set: %v, want %v in %s", name, set, n.c.tls, n.c.dir)
		}
		if !set {
			continue
		}
		m, v, _, ok := n.volumeAt(path.Dir(file))
		if !ok || v == nil || v.Secret == nil {
			t.Errorf("--%s=%s: no Secret volume is mounted at %s", name, file, path.Dir(file))
			continue
		}
		if !m.ReadOnly {
			t.Errorf("volumeMount %s: mount key material read-only", m.Name)
		}
		found := false
		for _, it := range v.Secret.Items {
			found = found || it.Path == path.Base(file)
		}
		if !found {
			t.Errorf("--%s=%s: Secret volume %s has no item %s", name, file, v.Name, path.Base(file))
		}
	}
}
