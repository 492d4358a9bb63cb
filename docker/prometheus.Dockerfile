# Prometheus (github.com/prometheus/prometheus, pinned in the Makefile) for
# the docker-compose cluster, built on the host with CGO_ENABLED=0: Debian's
# /usr/bin/prometheus is dynamically linked (libc), so it cannot run FROM
# scratch. The configuration (deploy/prometheus: scrape config and rules)
# is mounted at /etc/prometheus by docker-compose.yml. The ringcache binary
# rides along as the health-check probe (no shell, no curl). Built without
# the web UI's assets: the HTTP API is what the chaos suite and Grafana use.
FROM scratch
COPY prometheus /prometheus
COPY ringcache /ringcache
COPY tmp /tmp
COPY tmp /data
VOLUME ["/data"]
EXPOSE 9090
ENTRYPOINT ["/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/data", "--web.listen-address=0.0.0.0:9090"]
