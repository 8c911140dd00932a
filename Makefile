# alphaswarm-controller. Run "make help" for the targets.

SHELL   := /bin/bash
GO      ?= go
VERSION ?= 0.1.0-dev
export CGO_ENABLED := 0

# Workspace modules, and the released ones (built alone with GOWORK=off).
MODULES  := core sdk host examples plugins/compose plugins/kubernetes plugins/aws plugins/azure plugins/gcp tools
RELEASED := core sdk host examples plugins/compose plugins/kubernetes plugins/aws plugins/azure plugins/gcp

# Plugin binaries: bin/plugins/swarm-backend-<name> from its package.
PLUGIN_memory  := ./examples/backend-memory/cmd/swarm-backend-memory
PLUGIN_compose := ./plugins/compose/cmd/swarm-backend-compose
PLUGIN_kubernetes := ./plugins/kubernetes/cmd/swarm-backend-kubernetes
PLUGIN_aws := ./plugins/aws/cmd/swarm-backend-aws
PLUGIN_azure := ./plugins/azure/cmd/swarm-backend-azure
PLUGIN_gcp     := ./plugins/gcp/cmd/swarm-backend-gcp
PLUGINS        := memory compose kubernetes aws azure gcp

# Tools cached outside the repository, keyed by version.
TOOLS_DIR            ?= $(HOME)/.cache/alphaswarm/tools
PROTOC_GEN_GO        := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC   := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

LDFLAGS := -X github.com/alphaswarm/controller/host/internal/version.Version=$(VERSION)

BENCH_PAIRS := \
	plugin_launch=PluginLaunch/sdk_vs_plain@sdk_mtls_p50_ns:PluginLaunch/sdk_vs_plain@plain_goplugin_p50_ns \
	unary_call=UnaryCall@sdk_p50_ns:UnaryCall@raw_grpc_p50_ns \
	status_call=UnaryCall@sdk_status_p50_ns:UnaryCall@raw_grpc_p50_ns \
	goplugin_automtls_reference=PluginLaunch/goplugin_automtls@goplugin_automtls_p50_ns:PluginLaunch/sdk_vs_plain@plain_goplugin_p50_ns \
	topology_load=TopologyLoad@load_validate_p50_ns:TopologyLoad@hclparse_p50_ns \
	jobs_sqlite=Jobs/sqlite@sqlite_jobs_p50_ns:Jobs/sqlite@sqlite_direct_p50_ns \
	jobs_postgres=Jobs/postgres@postgres_jobs_p50_ns:Jobs/postgres@postgres_direct_p50_ns \
	api_read=API/read@api_read_authorized_p50_ns:API/read@api_read_unchecked_p50_ns \
	api_logs=API/logs@api_logs_relayed_p50_ns:API/logs@api_logs_grpc_p50_ns \
	compose_apply=ComposeApply@compose_apply_p50_ns:ComposeApply@docker_direct_p50_ns \
	compose_apply_vs_parallel_reference=ComposeApply@compose_apply_p50_ns:ComposeApply@docker_direct_parallel_p50_ns \
	kubernetes_apply=KubernetesApply@kubernetes_apply_p50_ns:KubernetesApply@client_go_direct_p50_ns \
	aws_apply=AWSApply@aws_apply_p50_ns:AWSApply@sdk_direct_p50_ns \
	azure_apply=AzureApply@azure_apply_p50_ns:AzureApply@sdk_direct_p50_ns \
	gcp_apply=GCPApply@gcp_apply_p50_ns:GCPApply@run_direct_p50_ns

.PHONY: help build release images image admin-up admin-down postgres test test-acc-aws test-acc-azure test-acc-gcp lint bench proto dev dev-stop k8s-bin k8s-up k8s-down clean

help:
	@echo "make build   bin/swarmctl and every plugin in bin/plugins/"
	@echo "make release VERSION=vX.Y.Z  signed, reproducible archives in dist/VERSION/ (docs/releasing.md)"
	@echo "make images  the echo workload as image alphaswarm/echo:dev, FROM scratch"
	@echo "make image   the controller's image alphaswarm/controller:$(VERSION), FROM scratch"
	@echo "make admin-up  the admin stack (deployments/compose/docker-compose.admin.yml); make admin-down stops it"
	@echo "make test    lint, build, then every module's tests"
	@echo "make lint    gofmt, go vet, import boundaries, GOWORK=off builds"
	@echo "make bench   benchmarks, with ratio lines against same-run baselines"
	@echo "make proto   regenerate sdk/internal/backendv1 from the .proto"
	@echo "make dev     dev mode in the background, the quickstart applied, its URL printed"
	@echo "make dev-stop  destroy the quickstart and stop dev mode"
	@echo "make k8s-up  the Kubernetes test control plane on loopback (.swarm/k8s/kubeconfig); make k8s-down stops it"

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/swarmctl ./host/cmd/swarmctl
	@mkdir -p bin/plugins
	$(foreach p,$(PLUGINS),$(GO) build -trimpath -o bin/plugins/swarm-backend-$(p) $(PLUGIN_$(p)) &&) true

# A release (docs/releasing.md): swarmctl and every plugin but the memory
# example, cross-built, zipped, summed and signed into dist/$(VERSION)/ by
# tools/release, byte-identical for one commit, with the module proxy that
# third-party authors "go get" the SDK from. RELEASE_SIGNING_KEY is the path
# of the armored OpenPGP private key; PLATFORMS=linux_amd64,darwin_arm64
# narrows the platforms; RELEASE_IMAGE=1 also saves the controller's image.
# A plugin released alone: RELEASE_PLUGINS=aws RELEASE_CLI= RELEASE_GOPROXY=
RELEASE_PLUGINS ?= $(filter-out memory,$(PLUGINS))
RELEASE_CLI     ?= ./host/cmd/swarmctl
RELEASE_GOPROXY ?= core,sdk
release:
	@if [ -z "$$RELEASE_SIGNING_KEY" ]; then echo "make release: set RELEASE_SIGNING_KEY to the path of the armored OpenPGP release key (go run ./tools/release genkey -out DIR makes one)" >&2; exit 1; fi
	$(GO) run ./tools/release build -version $(VERSION) -out dist $(if $(PLATFORMS),-platforms $(PLATFORMS)) \
		-cli "$(RELEASE_CLI)" -goproxy "$(RELEASE_GOPROXY)" \
		$(if $(filter 1,$(RELEASE_IMAGE)),-image) $(foreach p,$(RELEASE_PLUGINS),-plugin $(p)=$(PLUGIN_$(p)))

images:
	@mkdir -p bin/images/echo
	$(GO) build -trimpath -o bin/images/echo/echo ./examples/workloads/echo
	printf 'FROM scratch\nCOPY echo /echo\nENTRYPOINT ["/echo"]\n' > bin/images/echo/Dockerfile
	docker build -q -t alphaswarm/echo:dev bin/images/echo

# The controller's image, FROM scratch: swarmctl, every plugin with its lock
# file, a CA bundle, the user 65532 and /data. The end-to-end test builds it
# with the same script.
image:
	VERSION=$(VERSION) GO=$(GO) ./scripts/image.sh

# The admin stack: the controller alone on the alphaswarm-admin network, the
# API on 127.0.0.1:7373 (docs/admin-stack.md). PROFILE=docker runs the
# controller with the Docker socket instead (root-equivalent on this host).
ADMIN_COMPOSE := docker-compose -p alphaswarm -f deployments/compose/docker-compose.admin.yml
PROFILE ?=
admin-up: image
	ALPHASWARM_VERSION=$(VERSION) $(if $(filter docker,$(PROFILE)),ALPHASWARM_DOCKER_GID=$$(stat -c %g /var/run/docker.sock) $(ADMIN_COMPOSE) --profile docker up -d controller-docker,$(ADMIN_COMPOSE) up -d controller)

admin-down:
	ALPHASWARM_VERSION=$(VERSION) $(ADMIN_COMPOSE) --profile docker down

# The store's tests run against PostgreSQL too: Debian's server package,
# installed once when missing (throwaway clusters are started by the tests).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing Debian's postgresql for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The tests that start a Kubernetes control plane (the backend's and the
# end-to-end ones) run after the others, one package at a time, so that it
# does not compete with the Docker Engine's tests for the machine's two cores.
# The end-to-end package also builds the controller's image and runs the
# admin stack (about 50s), hence a timeout above go test's default 10m.
SERIAL_TESTS := ./host/internal/e2e/ ./plugins/kubernetes/...
# The concurrency tests run once more under the race detector (with cgo).
RACE_TESTS := ./host/internal/pluginmgr/ ./host/internal/api/
test: postgres k8s-bin lint build
	$(GO) test -count=1 $$($(GO) list $(foreach m,$(filter-out plugins/kubernetes,$(MODULES)),./$(m)/...) | grep -v /host/internal/e2e$$)
	CGO_ENABLED=1 $(GO) test -race -count=1 -run '^TestConcurrent' $(RACE_TESTS)
	$(GO) test -count=1 -p 1 -timeout 30m $(SERIAL_TESTS)

lint:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(foreach m,$(MODULES),./$(m)/...)
	$(GO) run ./tools/repolint
	$(foreach m,$(RELEASED),(cd $(m) && GOWORK=off $(GO) build -o /dev/null ./...) &&) true

# Each benchmark takes turns between the code measured and its baseline and
# reports their medians (p50), so that drift on a shared machine hits both
# sides. The plugin boundary runs five rounds and benchratio takes the median
# over them; compose_apply (about 10s an iteration, on the Docker Engine) one.
bench: postgres k8s-bin
	@mkdir -p bin
	$(GO) test -c -o bin/bench.test ./host/internal/bench
	set -o pipefail; { for round in 1 2 3 4 5; do \
		bin/bench.test -test.run '^$$' -test.bench PluginLaunch -test.benchtime 40x || exit 1; \
		bin/bench.test -test.run '^$$' -test.bench UnaryCall -test.benchtime 1000x || exit 1; \
		bin/bench.test -test.run '^$$' -test.bench TopologyLoad -test.benchtime 10x || exit 1; \
		bin/bench.test -test.run '^$$' -test.bench Jobs -test.benchtime 5x || exit 1; \
		bin/bench.test -test.run '^$$' -test.bench API -test.benchtime 10x || exit 1; \
	done; $(GO) test -run '^$$' -bench ComposeApply -benchtime 5x ./plugins/compose/ || exit 1; \
	$(GO) test -run '^$$' -bench KubernetesApply -benchtime 5x ./plugins/kubernetes/ || exit 1; \
	$(GO) test -run '^$$' -bench AWSApply -benchtime 5x ./plugins/aws/ || exit 1; \
	$(GO) test -run '^$$' -bench AzureApply -benchtime 5x ./plugins/azure/ || exit 1; \
	$(GO) test -run '^$$' -bench GCPApply -benchtime 5x ./plugins/gcp/ || exit 1; \
	} | $(GO) run ./tools/benchratio $(BENCH_PAIRS)

# The AWS backend's live acceptance test: the conformance kit against real
# ECS on Fargate (see docs/aws.md); it says what to set when off.
test-acc-aws:
	cd plugins/aws && $(GO) test -count=1 -timeout 90m -run '^TestAcceptanceAWS$$' -v .

# The Azure backend's live acceptance test: the conformance kit against a
# real subscription (see docs/azure.md); it says what to set when off.
test-acc-azure:
	cd plugins/azure && $(GO) test -count=1 -timeout 90m -run '^TestAcceptance$$' -v .

proto:
	@command -v protoc >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler; }
	GOBIN=$(TOOLS_DIR)/bin $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(TOOLS_DIR)/bin $(GO) install $(PROTOC_GEN_GO_GRPC)
	cd sdk && PATH=$(TOOLS_DIR)/bin:$$PATH protoc -I proto \
		--go_out=. --go_opt=module=github.com/alphaswarm/controller/sdk \
		--go-grpc_out=. --go-grpc_opt=module=github.com/alphaswarm/controller/sdk \
		alphaswarm/backend/v1/backend.proto

# The main job: dev mode in the background and the quickstart applied to the
# local Docker Engine through the API, ending with the URL it answers on.
dev: build images
	./scripts/dev.sh

dev-stop:
	./scripts/dev.sh stop

# The Kubernetes backend's test control plane: binaries built once from Go
# modules into a cache outside the repository (scripts/k8s-bin.sh), then
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on
# loopback, with the admin kubeconfig in .swarm/k8s/kubeconfig.
k8s-bin:
	@./scripts/k8s-bin.sh >/dev/null

k8s-up: k8s-bin
	$(GO) build -o bin/k8scluster ./tools/k8scluster
	bin/k8scluster up -dir .swarm/k8s -bin "$$(./scripts/k8s-bin.sh)"
	@echo "export KUBECONFIG=$$PWD/.swarm/k8s/kubeconfig"

k8s-down:
	@if [ -x bin/k8scluster ]; then bin/k8scluster down -dir .swarm/k8s; else rm -rf .swarm/k8s; fi

clean:
	rm -rf bin

# The GCP backend's live acceptance test: the conformance kit against real
# Cloud Run (ALPHASWARM_ACC_GCP=1 and the variables TestAcceptance in
# plugins/gcp names, see docs/gcp.md); it says what to set when off.
test-acc-gcp:
	$(GO) test -count=1 -timeout 60m -run '^TestAcceptance$$' -v ./plugins/gcp/
