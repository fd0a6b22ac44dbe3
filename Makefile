# CatEvening: `make demo` and `make test` work on a fresh machine (they install what is missing first).
DOTNET ?= dotnet
CONFIG ?= Release
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: all deps build demo demo-live test bench pack publish clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(DOTNET) build CatEvening.sln -c $(CONFIG) --no-restore -v quiet -nologo

demo: build
	@scripts/demo.sh

demo-live: build
	@scripts/demo-live.sh

# Every test; media is made afresh once per run by the first test that needs it.
test: build
	rm -rf .test-media TestResults
	$(DOTNET) test CatEvening.sln -c $(CONFIG) --no-build --no-restore \
	  --logger "trx" --logger "console;verbosity=normal" --results-directory TestResults

bench: build
	$(DOTNET) run -c Release --project benchmarks/CatEvening.Benchmarks -- --filter '*' $(BENCH_ARGS)

pack: build
	$(DOTNET) pack src/SeiReader/SeiReader.csproj -c $(CONFIG) --no-build -o artifacts/packages

# Native AOT binaries into artifacts/bin (sei-inject: about a minute on 2 cores); scripts/demo.sh prefers them.
publish: deps
	$(DOTNET) publish src/SeiInjector/SeiInjector.csproj -c Release --use-current-runtime -o artifacts/bin

clean:
	rm -rf artifacts TestResults .test-media
	find . -name bin -o -name obj | xargs rm -rf
