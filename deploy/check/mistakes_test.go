package check

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// recorder is a reporter that keeps the messages; Fatal stops the check
// it is in (a panic that run recovers).
type recorder struct{ msgs []string }

// errStopCheck is what Fatal panics with.
var errStopCheck = errors.New("check stopped")

func (r *recorder) Helper()                      {}
func (r *recorder) Error(args ...any)            { r.msgs = append(r.msgs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, args ...any) { r.msgs = append(r.msgs, fmt.Sprintf(f, args...)) }
func (r *recorder) Fatal(args ...any)            { r.Error(args...); panic(errStopCheck) }
func (r *recorder) Fatalf(f string, args ...any) { r.Errorf(f, args...); panic(errStopCheck) }
func (r *recorder) has(want string) bool         { return strings.Contains(strings.Join(r.msgs, "\n"), want) }
func (r *recorder) String() string               { return strings.Join(r.msgs, "\n") }

// run calls fn, ending where fn called Fatal.
func (r *recorder) run(fn func()) {
	defer func() {
		if p := recover(); p != nil && p != errStopCheck {
			panic(p)
		}
	}()
	fn()
}

// clone deep-copies a rendering so each mistake starts from the base.
func (r *rendered) clone() *rendered {
	c := &rendered{
		services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}, serviceAccounts: map[string]*corev1.ServiceAccount{},
	}
	for _, s := range r.statefulSets {
		c.statefulSets = append(c.statefulSets, s.DeepCopy())
	}
	for _, p := range r.pdbs {
		c.pdbs = append(c.pdbs, p.DeepCopy())
	}
	for k, v := range r.services {
		c.services[k] = v.DeepCopy()
	}
	for k, v := range r.configMaps {
		c.configMaps[k] = v.DeepCopy()
	}
	for k, v := range r.secrets {
		c.secrets[k] = v.DeepCopy()
	}
	for k, v := range r.serviceAccounts {
		c.serviceAccounts[k] = v.DeepCopy()
	}
	return c
}

func (r *rendered) container() *corev1.Container {
	return &r.statefulSets[0].Spec.Template.Spec.Containers[0]
}

// setArg replaces the argument that starts with prefix (or appends arg).
func (r *rendered) setArg(prefix, arg string) {
	c := r.container()
	for i, a := range c.Args {
		if strings.HasPrefix(a, prefix) {
			c.Args[i] = arg
			return
		}
	}
	c.Args = append(c.Args, arg)
}

// TestChecksCatchMistakes makes one mistake at a time in the rendered base
// and wants the checks to name it: a check that passes everything would
// pass the manifests too.
func TestChecksCatchMistakes(t *testing.T) {
	flags := loadNodeFlags(t)
	c := renderCases()[0]
	base, err := render(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	runAll := func(r *rendered) *recorder {
		rec := &recorder{}
		rec.run(func() {
			n := newNodeSpec(rec, c, flags, r)
			for _, check := range checks() {
				rec.run(func() { check.fn(rec, n) })
			}
		})
		return rec
	}
	if rec := runAll(base.clone()); len(rec.msgs) > 0 {
		t.Fatalf("the base itself fails:\n%s", rec)
	}
	podSpec := func(r *rendered) *corev1.PodSpec { return &r.statefulSets[0].Spec.Template.Spec }
	for _, m := range []struct {
		name string
		edit func(*rendered)
		want string
	}{
		{"unknown flag", func(r *rendered) { r.setArg("--no-such", "--no-such-flag=1") }, "has no flag --no-such-flag"},
		{"TLS flag in the base", func(r *rendered) { r.setArg("--tls-cert", "--tls-cert=/x") }, "--tls-cert set: true, want false"},
		{"value flag without value", func(r *rendered) { r.setArg("--data-dir", "--data-dir") }, "takes a value"},
		{"undefined $(VAR)", func(r *rendered) { r.setArg("--id=", "--id=$(HOSTNAME)") }, "$(HOSTNAME) is not an environment variable"},
		{"join through another Service", func(r *rendered) {
			r.setArg("--join=", strings.ReplaceAll(r.container().Args[len(r.container().Args)-1], "ringcache-headless", "ringcache-gossip"))
		}, "names pod"},
		{"join past the replicas", func(r *rendered) {
			r.setArg("--join=", "--join=ringcache-7.ringcache-headless.$(POD_NAMESPACE).svc.cluster.local:7946")
		}, "ordinal 7"},
		{"join at the wrong port", func(r *rendered) {
			r.setArg("--join=", "--join=ringcache-0.ringcache-headless.$(POD_NAMESPACE).svc.cluster.local:7100")
		}, "want the gossip port"},
		{"listen on loopback", func(r *rendered) { r.setArg("--http-addr=", "--http-addr=127.0.0.1:7180") }, "listen on 0.0.0.0"},
		{"readiness on /healthz", func(r *rendered) { r.container().ReadinessProbe.HTTPGet.Path = "/healthz" }, "want /readyz"},
		{"liveness on the gRPC port", func(r *rendered) { r.container().LivenessProbe.HTTPGet.Port = intstr.FromString("grpc") }, "is not the --http-addr port"},
		{"short startup", func(r *rendered) { r.container().StartupProbe.FailureThreshold = 3 }, "allow at least 600 s"},
		{"exec preStop", func(r *rendered) {
			r.container().Lifecycle.PreStop = &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sleep", "5"}}}
		}, "want the sleep action"},
		{"gossip without UDP", func(r *rendered) {
			c := r.container()
			for i, p := range c.Ports {
				if p.Protocol == corev1.ProtocolUDP {
					c.Ports = append(c.Ports[:i], c.Ports[i+1:]...)
					break
				}
			}
		}, "no UDP container port"},
		{"headless hides starting pods", func(r *rendered) { r.services["ringcache-headless"].Spec.PublishNotReadyAddresses = false }, "publishNotReadyAddresses must be true"},
		{"service port to nowhere", func(r *rendered) { r.services["ringcache"].Spec.Ports[0].TargetPort = intstr.FromString("grcp") }, "no TCP container port grcp"},
		{"PDB over other pods", func(r *rendered) {
			r.pdbs[0].Spec.Selector.MatchLabels = map[string]string{"app.kubernetes.io/name": "other"}
		}, "does not select"},
		{"writable root", func(r *rendered) { f := false; r.container().SecurityContext.ReadOnlyRootFilesystem = &f }, "readOnlyRootFilesystem"},
		{"root user", func(r *rendered) { var root int64; podSpec(r).SecurityContext.RunAsUser = &root }, "fixed non-root runAsUser"},
		{"capabilities kept", func(r *rendered) { r.container().SecurityContext.Capabilities = nil }, "drop [ALL]"},
		{"service links", func(r *rendered) { podSpec(r).EnableServiceLinks = nil }, "enableServiceLinks"},
		{"unknown RINGCACHE_ variable", func(r *rendered) {
			v := "x"
			r.container().Env = append(r.container().Env, corev1.EnvVar{Name: "RINGCACHE_NO_SUCH", Value: v})
		}, "RINGCACHE_NO_SUCH: no flag"},
		{"flag set twice", func(r *rendered) {
			r.container().Env = append(r.container().Env, corev1.EnvVar{Name: "RINGCACHE_DATA_DIR", Value: "/data"})
		}, "set in args and in env"},
		{"literal secret", func(r *rendered) {
			for i, e := range r.container().Env {
				if e.Name == "AWS_SECRET_ACCESS_KEY" {
					r.container().Env[i] = corev1.EnvVar{Name: e.Name, Value: "hunter2"}
				}
			}
		}, "take it from a Secret"},
		{"missing Secret", func(r *rendered) {
			for name := range r.secrets {
				if strings.HasPrefix(name, "ringcache-s3-keys") {
					delete(r.secrets, name)
				}
			}
		}, "neither rendered nor listed as external"},
		{"data dir not on the claim", func(r *rendered) { r.setArg("--data-dir=", "--data-dir=/var/lib/ringcache") }, "want a volumeClaimTemplate mounted there"},
	} {
		t.Run(m.name, func(t *testing.T) {
			r := base.clone()
			m.edit(r)
			if rec := runAll(r); !rec.has(m.want) {
				t.Errorf("want a message with %q, got:\n%s", m.want, rec)
			}
		})
	}
}
