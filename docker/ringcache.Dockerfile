# The ringcache node image: one static binary (CGO_ENABLED=0) FROM scratch.
# No base image can be pulled where this is built, so the binary is built on
# the host and the build context holds just it (make images prepares it).
FROM scratch
COPY ringcache /ringcache
# An empty directory from the context: os.TempDir and friends need /tmp.
COPY tmp /tmp
VOLUME ["/data"]
EXPOSE 7100 7180 7946 7946/udp
ENTRYPOINT ["/ringcache"]
CMD ["node", "--help"]
