# facegate — see README.md.
#   make run    start the appliance on the embedded default (SQLite, demo clip, simulated relay)
#   make test   install what is missing, prepare the models, run every test

GO          ?= go
DATA_DIR    ?= ./data
MODELS_DIR  ?= $(DATA_DIR)/models
# Mirror holding mmod_human_face_detector.dat (CI and developers have ../shared/models).
MODELS_FROM ?= ../shared/models
# Demo photos and clip for `make run` and the tests.
DEMO_DIR    ?= ../shared/testdata
BIN         := bin/facegate
# staticcheck, fetched and built by the go command at this version (one
# that knows Go 1.26).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

export FACEGATE_TESTDATA := $(abspath $(DEMO_DIR))
export FACEGATE_TEST_MODELS := $(abspath $(MODELS_DIR))
# Browser-test screenshots land here.
export FACEGATE_ARTIFACTS := $(abspath artifacts)

.PHONY: all setup setup-test build models test test-clock lint bench soak load run clean

all: build

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh test

build: setup
	$(GO) build -o $(BIN) ./cmd/facegate

models: build
	$(BIN) models prepare --dir $(MODELS_DIR) $(if $(wildcard $(MODELS_FROM)),--from $(MODELS_FROM),)

# The storage suite runs on SQLite and on a real PostgreSQL server, which
# scripts/postgres.sh installs, starts and prepares when needed. The MQTT
# tests run against a throwaway mosquitto (TLS, password) that
# scripts/mosquitto.sh starts on a free loopback port and stops after.
test: setup-test models
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	d="$$(mktemp -d)"; trap 'scripts/mosquitto.sh stop "$$d"; rm -rf "$$d"' EXIT; \
	mqtt="$$(scripts/mosquitto.sh start "$$d")" && \
	FACEGATE_TEST_MQTT="$$mqtt" FACEGATE_TEST_POSTGRES="$$(scripts/postgres.sh)" $(GO) test -count=1 -timeout 30m ./...
	# Native memory: every gocv Mat closed again (gocv's MatProfile).
	$(GO) test -count=1 -tags matprofile -run TestNoMatLeak ./vision/
	$(MAKE) --no-print-directory test-clock

# The tests with a fixed clock again with it moved 7 years ahead and back
# (gate/clocktest): a test or code path that mixes it with the wall clock
# (a join token made at the test clock, checked against time.Now()) fails
# here at once, not on the day the fixed date falls behind the calendar.
CLOCK_TESTS ?= TestCentral|TestSite|TestAlerts|TestDateKeepsWeekdayAndTime
test-clock:
	for s in +7 -7; do FACEGATE_TEST_CLOCK_SHIFT=$$s $(GO) test -count=1 -run '$(CLOCK_TESTS)' ./web/ ./gate/clocktest/ || exit 1; done

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: models
	$(GO) test -run '^$$' -bench . -benchtime 20x ./vision/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./storage/
	# A site: one central on PostgreSQL, 10,000 people, 50 simulated doors.
	FACEGATE_TEST_POSTGRES="$$(scripts/postgres.sh)" $(GO) test -run '^$$' -bench BenchmarkSite -benchtime 1x -timeout 30m ./cmd/facegate/
	$(BIN) bench --models-dir $(MODELS_DIR) --source $(DEMO_DIR)/video/short_hamilton_clip.mp4 \
	  --enroll "Lin-Manuel Miranda=$(DEMO_DIR)/faces/lin-manuel-miranda.png" --enroll "Barack Obama=$(DEMO_DIR)/faces/obama.jpg"
	# The naive full-frame loop is go-face's: compare it on dlib.
	$(BIN) bench --models-dir $(MODELS_DIR) --embedder dlib --detector lbp --source $(DEMO_DIR)/video/short_hamilton_clip.mp4 \
	  --enroll "Lin-Manuel Miranda=$(DEMO_DIR)/faces/lin-manuel-miranda.png" --enroll "Barack Obama=$(DEMO_DIR)/faces/obama.jpg"

# Soak: the pipeline on the looped clip for SOAK (default 30m), RSS and
# open Mats sampled every 30 s. Not part of `make test`.
SOAK ?= 30m
soak: models
	FACEGATE_SOAK=$(SOAK) $(GO) test -count=1 -tags 'soak matprofile' -run TestSoak -timeout 0 -v ./vision/

# Load: the appliance on the clip while 8 loopback clients browse entries
# and the API for 15 s; prints requests/s, p95 and the fps drop.
load: models
	$(GO) test -count=1 -tags load -run TestLoad -timeout 10m -v ./cmd/facegate/

run: models
	$(BIN) serve --data-dir $(DATA_DIR) --models-dir $(MODELS_DIR) --demo-dir $(DEMO_DIR) --web-listen :8443

clean:
	rm -rf bin
