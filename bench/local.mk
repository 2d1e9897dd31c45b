# bench: benchmarks that measure memtype side by side with a peer (lspci on
# the same tree). Built only on request ("make bench/bench-inventory
# bench/bench-decide", which bench/scan does itself), never installed and
# never run by "make check".

EXTRA_PROGRAMS += bench/bench-inventory bench/bench-decide
bench_bench_inventory_SOURCES = bench/bench-inventory.c bench/bench-util.h
bench_bench_inventory_CFLAGS = $(AM_CFLAGS) $(LIBPCI_CFLAGS)
bench_bench_inventory_LDADD = $(INVENTORY_LIBS)
bench_bench_decide_SOURCES = bench/bench-decide.c bench/bench-util.h
bench_bench_decide_CFLAGS = $(AM_CFLAGS) $(LIBPCI_CFLAGS)
bench_bench_decide_LDADD = $(INVENTORY_LIBS)

EXTRA_DIST += bench/scan

# bench/daemon drives a running memtyped with this client (Plan latency,
# Register of many VMs); built on request like the others.
EXTRA_PROGRAMS += bench/bench-varlink
bench_bench_varlink_SOURCES = bench/bench-varlink.c bench/bench-util.h
bench_bench_varlink_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
bench_bench_varlink_LDADD = $(VARLINK_LIBS)

EXTRA_DIST += bench/hook-overhead bench/daemon
