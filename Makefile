# scorepoint - top-level build.
#
#   make              build everything into build/release
#   make test         install missing Debian packages, build, run the suite
#   make test SAN=1   the same suite built with ASan + UBSan (build/san)
#   make test T=NAME  only NAME: a unit test (test_req), an e2e script
#                     (handler) or one request case (bad/csv-empty); several
#                     names in quotes (tests/README.md)
#   make run          build, then serve the tutorial's four endpoints on
#                     127.0.0.1:8080 (PORT=... for another) until Ctrl-C
#   make deps         install (as root) or list the missing Debian packages,
#                     and the pinned npm trees (tools/npm_deps.sh)
#   make fixtures     re-train the fixture models (needs python3-torch; slow)
#   make bench        speed figures of this machine (bench/run.sh)
#   make bench-python score.fcgi against a stand-in for the Python scoring
#                     stack (Flask + gunicorn + pandas + torch following
#                     MLflow's scoring path, bench/python-reference), in one
#                     run: requests/s ratios and cold starts (bench/python.sh;
#                     BENCH_SECONDS per wrk run, default 5)
#   make bench-convert  pth2blob time against model size
#   make soak         60 s (SOAK_SECONDS) of checked load through lighttpd
#   make install      the programs, man pages and docs under PREFIX (/usr/local),
#                     staged under DESTDIR if set; make uninstall removes them
#   make lambda       the AWS Lambda deployment zip, $(BUILD)/lambda.zip:
#                     bootstrap, score.fcgi and the tutorial's model, or
#                     LAMBDA_MODEL=FILE.blob / LAMBDA_WORKSPACE=DIR
#                     (deploy/lambda, docs/lambda.md)
#   make fuzz         every libFuzzer target of tests/fuzz for FUZZ_SECONDS
#                     each (default 30), built with clang into build/fuzz
#   make container    the container images with podman, offline (as root):
#                     scorepoint (deploy/container/Dockerfile) and
#                     scorepoint-slim (Containerfile.slim)
#   make test-container  builds them and runs tests/container against both
#                     (not part of `make test`; CI runs it)
#
# Everything built lands under build/, which git ignores.

.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:
SHELL := /bin/sh

CC := gcc
SAN ?=
ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1
else
BUILD := build/release
SANFLAGS :=
OPT := -O2
endif

# Debian packages: to build, and to run the test suite.
DEPS_BUILD := gcc make pkg-config libc6-dev libfcgi-dev libjsmn-dev libyaml-dev libopenblas-dev libssl-dev
DEPS_TEST := lighttpd curl procps wrk openssl apache2 libapache2-mod-fcgid nginx spawn-fcgi systemd perl mount util-linux groff-base \
	python3-torch python3-cloudpickle kubernetes-client|kubectl npm|nodejs chromium
# npm trees pinned by their package-lock.json, installed by `make deps`:
# the Studio page's browser test (playwright-core driving Debian's chromium,
# axe-core).
NPM_DIRS := tests/ui
DEPS_BENCH := wrk lighttpd curl systemd python3 valgrind python3-torch python3-cloudpickle python3-numpy
# `make bench-python`: the stand-in's Debian packages, and what drives it.
DEPS_PYTHON := python3-flask gunicorn python3-pandas python3-torch python3-yaml wrk lighttpd curl
DEPS_FUZZ := clang libclang-rt-14-dev
# `make container` and `make test-container`: podman with runc, and
# debootstrap for the Debian 12 base image (no image registry needed).
DEPS_CONTAINER := podman runc debootstrap
# A word A|B is a choice (tools/deps.sh); quoted, for the shell.
quoted = $(foreach w,$(1),'$(w)')
# pkg-config names (jsmn is a header-only library and ships no .pc file).
PKGS := fcgi yaml-0.1 openblas libcrypto

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
CFLAGS = -std=c11 $(OPT) -g $(WARN) $(SANFLAGS)
CPPFLAGS = -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -I. $(shell pkg-config --cflags $(PKGS)) -MMD -MP
LDFLAGS = $(SANFLAGS) -Wl,--as-needed

# One library per folder; a program is its folder's file with a main().
#   model/      inference: blobs, the forward pass (OpenBLAS), request
#               decoders, encoders, numbers, JSON, V2
#   workspace/  endpoints, deployments, keys, tokens, traffic, the state file
#   metrics/    the request counters every worker shares (one mapped file)
#   handler/    score.fcgi
#   tools/      pth2blob: zip, pickle machine, .pth and MLmodel readers
#   cli/        scorepoint
# Each program links only what it uses, so a wrong include is a link error:
#   pth2blob   = tools + model
#   score.fcgi = handler + metrics + workspace + model
#   scorepoint = cli + tools + metrics + workspace + model
lib = $(BUILD)/lib$(1).a
src = $(filter-out $(2),$(wildcard $(1)/*.c))
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
MAINS := tools/pth2blob.c handler/score.c cli/scorepoint.c
MODEL_SRC := $(call src,model)
WORKSPACE_SRC := $(call src,workspace)
METRICS_SRC := $(call src,metrics)
TOOLS_SRC := $(call src,tools,$(MAINS))
HANDLER_SRC := $(call src,handler,$(MAINS))
CLI_SRC := $(call src,cli,$(MAINS))
LIBMODEL := $(call lib,model)
LIBWORKSPACE := $(call lib,workspace)
LIBMETRICS := $(call lib,metrics)
LIBTOOLS := $(call lib,tools)
LIBHANDLER := $(call lib,handler)
LIBCLI := $(call lib,cli)
# What each library needs of the system.  OpenBLAS is always linked
# statically: model/fwd.c names its kernels in a constructor that must run
# before OpenBLAS's own, which a shared libopenblas.so's would not (fwd.c).
OPENBLAS_A := $(patsubst %/,%,$(shell pkg-config --variable=libdir openblas))/libopenblas.a
MODEL_LDLIBS := $(OPENBLAS_A) -lm -lpthread
WORKSPACE_LDLIBS := $(shell pkg-config --libs yaml-0.1 libcrypto)
TOOLS_LDLIBS := $(shell pkg-config --libs yaml-0.1 libcrypto)
HANDLER_LDLIBS := $(shell pkg-config --libs fcgi)

PTH2BLOB_LIBS := $(LIBTOOLS) $(LIBMODEL)
SCORE_LIBS := $(LIBHANDLER) $(LIBMETRICS) $(LIBWORKSPACE) $(LIBMODEL)
SCOREPOINT_LIBS := $(LIBCLI) $(LIBTOOLS) $(LIBMETRICS) $(LIBWORKSPACE) $(LIBMODEL)
ALL_LIBS := $(LIBHANDLER) $(LIBCLI) $(LIBTOOLS) $(LIBMETRICS) $(LIBWORKSPACE) $(LIBMODEL)
ALL_LDLIBS := $(HANDLER_LDLIBS) $(sort $(TOOLS_LDLIBS) $(WORKSPACE_LDLIBS)) $(MODEL_LDLIBS)

PROGRAMS := $(BUILD)/pth2blob $(BUILD)/score.fcgi $(BUILD)/scorepoint
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
BENCH_PROGRAMS := $(BUILD)/bench/inproc $(BUILD)/bench/noop.fcgi $(BUILD)/bench/noop_cgi $(BUILD)/bench/coldstart \
	$(BUILD)/bench/gemm $(BUILD)/bench/fwd

.PHONY: all test check deps fixtures clean
all: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# --verify's torch side, tools/verify_torch.py, embedded in verify.o as a
# C array next to it (od is coreutils; no xxd needed).
$(BUILD)/obj/tools/verify.o: CPPFLAGS += -I$(@D)
$(BUILD)/obj/tools/verify.o: $(BUILD)/obj/tools/verify_torch.h
%/obj/tools/verify_torch.h: tools/verify_torch.py
	@mkdir -p $(@D)
	{ echo 'static const char verify_torch_py[] = {'; od -An -v -tx1 $< | \
		sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; } >$@

# The Studio page's files (handler/ui/), embedded in handler/ui.o as C
# arrays by tools/embed.sh: score.fcgi serves them with no file to find.
UI_FILES := $(sort $(wildcard handler/ui/*.html handler/ui/*.css handler/ui/*.js handler/ui/*.svg))
$(BUILD)/obj/handler/ui.o: CPPFLAGS += -I$(@D)
$(BUILD)/obj/handler/ui.o: $(BUILD)/obj/handler/ui_assets.h
%/obj/handler/ui_assets.h: $(UI_FILES) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh $(UI_FILES) >$@

# CRC-32's tables, read-only data made at build time (tools/crc32_table.sh).
$(BUILD)/obj/model/crc32.o: CPPFLAGS += -I$(@D)
$(BUILD)/obj/model/crc32.o: $(BUILD)/obj/model/crc32_table.h
%/obj/model/crc32_table.h: tools/crc32_table.sh
	@mkdir -p $(@D)
	sh tools/crc32_table.sh >$@

$(LIBMODEL): $(call obj,$(MODEL_SRC))
$(LIBWORKSPACE): $(call obj,$(WORKSPACE_SRC))
$(LIBMETRICS): $(call obj,$(METRICS_SRC))
$(LIBTOOLS): $(call obj,$(TOOLS_SRC))
$(LIBHANDLER): $(call obj,$(HANDLER_SRC))
$(LIBCLI): $(call obj,$(CLI_SRC))
$(ALL_LIBS):
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/pth2blob: $(BUILD)/obj/tools/pth2blob.o $(PTH2BLOB_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(TOOLS_LDLIBS) $(MODEL_LDLIBS)

# score.fcgi is linked statically (not under SAN=1: the sanitizers need the
# dynamic loader): a CGI request, or a FaaS cold start, then pays no
# dynamic linking (bench/coldstart.sh measures it against bench/noop_cgi.c).
# The linker warns that getpwuid (a message's user name), libfcgi's
# gethostbyname (--socket HOST:PORT) and libcrypto's getaddrinfo and dlopen
# (never called: no engine, no BIO address lookup) would need glibc's
# shared libraries at run time: glibc 2.36 builds its "files" and "dns"
# services into a static program, and a numeric address needs neither.
SCORE_STATIC := $(if $(SANFLAGS),,-static)
# The code a CGI request runs, put together at the front of .text (fewer
# pages for a cold process to fault in; bench/hot_text.sh makes the list).
SCORE_LAYOUT := $(if $(SANFLAGS),,-Wl,-T,handler/hot_text.ld)
$(BUILD)/score.fcgi: $(BUILD)/obj/handler/score.o $(SCORE_LIBS) handler/hot_text.ld
	$(CC) $(LDFLAGS) $(SCORE_STATIC) $(SCORE_LAYOUT) -o $@ $(filter %.o %.a,$^) $(HANDLER_LDLIBS) $(WORKSPACE_LDLIBS) \
		$(MODEL_LDLIBS)

$(BUILD)/scorepoint: $(BUILD)/obj/cli/scorepoint.o $(SCOREPOINT_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(sort $(TOOLS_LDLIBS) $(WORKSPACE_LDLIBS)) $(MODEL_LDLIBS)

$(BUILD)/bench/inproc: $(BUILD)/obj/bench/inproc.o $(BUILD)/obj/bench/naive.o $(LIBMODEL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(MODEL_LDLIBS)

$(BUILD)/bench/noop.fcgi: $(BUILD)/obj/bench/noop.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(HANDLER_LDLIBS)

# The exec floor: no library to load, as static as score.fcgi (not under
# SAN=1, whose runtime needs the dynamic loader).
$(BUILD)/bench/noop_cgi: $(BUILD)/obj/bench/noop_cgi.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(SCORE_STATIC) -o $@ $^

$(BUILD)/bench/gemm: $(BUILD)/obj/bench/gemm.o $(LIBMODEL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(MODEL_LDLIBS)

$(BUILD)/bench/fwd: $(BUILD)/obj/bench/fwd.o $(LIBMODEL)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(MODEL_LDLIBS)

$(BUILD)/bench/coldstart: $(BUILD)/obj/bench/coldstart.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^

# Unit tests may reach into any library.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

deps:
	@sh tools/deps.sh $(call quoted,$(DEPS_BUILD) $(DEPS_TEST))
	@$(if $(NPM_DIRS),sh tools/npm_deps.sh $(NPM_DIRS),:)

# Parallel jobs of the build inside `make test` (linking OpenBLAS statically
# makes each link take seconds).
JOBS ?= $(shell nproc)
# `make test` is all a user types on a fresh Debian 12 machine: deps first,
# then a separate make so that pkg-config runs after the packages exist.
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) build-tests SAN=$(SAN)
	@sh tests/run.sh $(BUILD) $(T)
check: test

.PHONY: build-tests
build-tests: $(PROGRAMS) $(UNIT_TESTS) $(BENCH_PROGRAMS)

fixtures:
	@sh fixtures/train/make_fixtures.sh

# The tutorial's four endpoints in the demo workspace build/run-workspace
# (made once, then reused), served by `scorepoint serve` in the foreground
# (tools/run_demo.sh).  It runs lighttpd, and prints curl lines.
DEPS_RUN := lighttpd curl
PORT ?= 8080
.PHONY: run
run: deps
	@sh tools/deps.sh $(call quoted,$(DEPS_RUN))
	@$(MAKE) --no-print-directory -s all
	@sh tools/run_demo.sh $(BUILD) $(PORT)

# Speed figures (bench/run.sh); never part of `make test`.
.PHONY: bench
bench: deps
	@sh tools/deps.sh $(call quoted,$(DEPS_BENCH))
	@$(MAKE) --no-print-directory all $(BENCH_PROGRAMS)
	@sh bench/run.sh $(BUILD)

# SOAK_SECONDS of mixed valid and bad requests through lighttpd, every
# answer checked (tests/soak/soak.sh); never part of `make test` or CI.
SOAK_SECONDS ?= 60
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory all
	@SOAK_SECONDS=$(SOAK_SECONDS) sh tests/soak/soak.sh $(BUILD)

# score.fcgi against the Python stand-in (bench/python.sh); not part of
# `make test` or `make bench`.
BENCH_SECONDS ?= 5
.PHONY: bench-python
bench-python: deps
	@sh tools/deps.sh $(call quoted,$(DEPS_PYTHON))
	@$(MAKE) --no-print-directory all $(BUILD)/bench/coldstart
	@sh bench/python.sh $(BUILD) $(BENCH_SECONDS)

# Conversion speed against model size (see bench/convert.sh).
.PHONY: bench-convert
bench-convert: deps
	@$(MAKE) --no-print-directory all
	@sh bench/convert.sh $(BUILD)

# The AWS Lambda zip (deploy/lambda/package.sh; docs/lambda.md): the
# tutorial's model by default, converted here, or LAMBDA_MODEL's blob, or
# LAMBDA_WORKSPACE's workspace.  Python 3's zipfile makes it (no zip package).
LAMBDA_MODEL ?=
LAMBDA_WORKSPACE ?=
.PHONY: lambda
lambda: $(BUILD)/score.fcgi $(BUILD)/pth2blob
	@if [ -n "$(LAMBDA_WORKSPACE)" ]; then \
		sh deploy/lambda/package.sh $(BUILD) $(BUILD)/lambda.zip --workspace "$(LAMBDA_WORKSPACE)"; \
	elif [ -n "$(LAMBDA_MODEL)" ]; then \
		sh deploy/lambda/package.sh $(BUILD) $(BUILD)/lambda.zip --model "$(LAMBDA_MODEL)"; \
	else \
		$(BUILD)/pth2blob -q --name model fixtures/model $(BUILD)/lambda-model.blob && \
		sh deploy/lambda/package.sh $(BUILD) $(BUILD)/lambda.zip --model $(BUILD)/lambda-model.blob; \
	fi

# The container images, built with podman from a Debian 12 base that
# tools/container_base.sh debootstraps from the Debian mirror (cached in
# build/container and podman's storage): no image registry is needed.
# tools/container_build.sh; deploy/container/README.md.  As root.
.PHONY: container test-container
container:
	@sh tools/deps.sh $(call quoted,$(DEPS_CONTAINER))
	@sh tools/container_build.sh
# Builds the images (tests/container/run.sh does) and runs them: the
# tutorial's endpoint, 401, /health, SIGTERM under load, the slim image's
# size and files.  The host's CLI makes the tests' workspace.
test-container: deps
	@sh tools/deps.sh $(call quoted,$(DEPS_CONTAINER))
	@$(MAKE) --no-print-directory all
	@sh tests/container/run.sh $(BUILD)

# Installation.  The three programs go side by side into BINDIR: the CLI's
# `online-endpoint invoke` runs the score.fcgi next to itself.  Man pages
# name the docs under /usr/local; they are installed with PREFIX's paths.
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
MAN1DIR = $(PREFIX)/share/man/man1
DOCDIR = $(PREFIX)/share/doc/scorepoint
MAN_PAGES := $(wildcard man/*.1)
DOC_FILES := README.md $(wildcard docs/*.md) $(wildcard deploy/examples/*/cloud/*.yml)
# Where each doc lands under DOCDIR: docs/ as is, the examples under examples/.
doc_dest = $(patsubst deploy/examples/%,examples/%,$(1))
DOC_DIRS := $(patsubst %/,%,$(filter-out ./,$(sort $(dir $(call doc_dest,$(DOC_FILES))))))

.PHONY: install uninstall
install: all
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(DOCDIR) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(DOC_DIRS))
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)
	@mkdir -p $(BUILD)/man
	@for p in $(MAN_PAGES); do \
		sed 's|/usr/local/|$(PREFIX)/|g' $$p >$(BUILD)/$$p || exit 1; \
		echo "install -m 0644 $$p $(DESTDIR)$(MAN1DIR)"; \
		install -m 0644 $(BUILD)/$$p $(DESTDIR)$(MAN1DIR) || exit 1; \
	done
	@for f in $(DOC_FILES); do \
		d=$(DESTDIR)$(DOCDIR)/$$(echo $$f | sed 's|^deploy/examples/|examples/|'); \
		echo "install -m 0644 $$f $$d"; \
		install -m 0644 $$f $$d || exit 1; \
	done

# Removes what install put there, and DOCDIR's folders once empty.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGRAMS)))
	rm -f $(addprefix $(DESTDIR)$(MAN1DIR)/,$(notdir $(MAN_PAGES)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(call doc_dest,$(DOC_FILES)))
	@for d in $(DOC_DIRS); do \
		while [ "$$d" != . ]; do echo "$$d"; d=$$(dirname "$$d"); done; \
	done | sort -ru | while read -r d; do \
		[ ! -d "$(DESTDIR)$(DOCDIR)/$$d" ] || rmdir --ignore-fail-on-non-empty "$(DESTDIR)$(DOCDIR)/$$d" || exit 1; \
	done
	[ ! -d $(DESTDIR)$(DOCDIR) ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(DOCDIR)

# libFuzzer targets (tests/fuzz/fuzz_*.c) over the model, workspace,
# converter and handler libraries (the programs' mains and the CLI are not
# fuzzed),
# rebuilt with clang and the fuzzer's instrumentation in their own folder,
# so build/release and build/san are left alone.
FUZZ_SECONDS ?= 30
FUZZ_BUILD := build/fuzz
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz_obj = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(1))
FUZZ_LIBS := $(FUZZ_BUILD)/libhandler.a $(FUZZ_BUILD)/libtools.a $(FUZZ_BUILD)/libmetrics.a $(FUZZ_BUILD)/libworkspace.a \
	$(FUZZ_BUILD)/libmodel.a

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_BUILD)/obj/tools/verify.o: CPPFLAGS += -I$(@D)
$(FUZZ_BUILD)/obj/tools/verify.o: $(FUZZ_BUILD)/obj/tools/verify_torch.h
$(FUZZ_BUILD)/obj/handler/ui.o: CPPFLAGS += -I$(@D)
$(FUZZ_BUILD)/obj/handler/ui.o: $(FUZZ_BUILD)/obj/handler/ui_assets.h
$(FUZZ_BUILD)/obj/model/crc32.o: CPPFLAGS += -I$(@D)
$(FUZZ_BUILD)/obj/model/crc32.o: $(FUZZ_BUILD)/obj/model/crc32_table.h

$(FUZZ_BUILD)/libmodel.a: $(call fuzz_obj,$(MODEL_SRC))
$(FUZZ_BUILD)/libworkspace.a: $(call fuzz_obj,$(WORKSPACE_SRC))
$(FUZZ_BUILD)/libmetrics.a: $(call fuzz_obj,$(METRICS_SRC))
$(FUZZ_BUILD)/libtools.a: $(call fuzz_obj,$(TOOLS_SRC))
$(FUZZ_BUILD)/libhandler.a: $(call fuzz_obj,$(HANDLER_SRC))
$(FUZZ_LIBS):
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIBS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(HANDLER_LDLIBS) $(sort $(TOOLS_LDLIBS) $(WORKSPACE_LDLIBS)) \
		$(MODEL_LDLIBS)

.PHONY: fuzz build-fuzz
fuzz:
	@sh tools/deps.sh $(call quoted,$(DEPS_BUILD) $(DEPS_FUZZ))
	@$(MAKE) --no-print-directory build-fuzz
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
build-fuzz: $(FUZZ_TARGETS)

clean:
	rm -rf build

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
