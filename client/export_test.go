package client

// WithJitterSeed returns cfg with the reconnect jitter seeded, so that a
// test's backoff delays replay from its printed seed.
func WithJitterSeed(cfg Config, seed uint64) Config {
	cfg.jitterSeed = seed
	return cfg
}
