# toxiproxy (github.com/Shopify/toxiproxy/v2, pinned in the Makefile) built on
# the host with CGO_ENABLED=0. toxiproxy.json creates the "s3" proxy at
# start; tests add and remove toxics on it through the HTTP API on 8474.
FROM scratch
COPY toxiproxy /toxiproxy
COPY ringcache /ringcache
COPY toxiproxy.json /toxiproxy.json
COPY tmp /tmp
EXPOSE 8474 8666
ENTRYPOINT ["/toxiproxy"]
CMD ["-host", "0.0.0.0", "-port", "8474", "-config", "/toxiproxy.json"]
