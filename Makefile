# CatEvening: `make demo` and `make test` work on a fresh machine (they install what is missing first).
DOTNET ?= dotnet
CONFIG ?= Release
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: all deps build bin demo demo-live test bench pack viewersim publish ffmpeg-matrix test-trixie test-sid clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(DOTNET) build CatEvening.sln -c $(CONFIG) --no-restore -v quiet -nologo

# sei-inject and latency-probe of the plain build on one known path: artifacts/bin (launchers; see scripts/make-bin.sh).
# Done again only when something the two programs are built from changed since the last `make bin` of this CONFIG
# (src/ outside bin/ and obj/, the solution, the MSBuild props, the script): a second `make bin` does nothing.
BIN_INPUTS := $(shell find src -type d \( -name bin -o -name obj -o -name node_modules \) -prune -o -type f -print) \
	CatEvening.sln $(wildcard Directory.*.props Directory.*.targets global.json nuget.config NuGet.config) scripts/make-bin.sh
BIN_STAMP := artifacts/bin/.make-bin-$(CONFIG)
bin: $(BIN_STAMP)

$(BIN_STAMP): $(BIN_INPUTS)
	@$(MAKE) --no-print-directory build
	@CONFIG=$(CONFIG) scripts/make-bin.sh
	@touch $@

demo: build
	@scripts/demo.sh

demo-live: build
	@scripts/demo-live.sh

# Every test; media is made afresh once per run by the first test that needs it. Then the Mono job: SeiReader's
# netstandard2.0 build checked on the Mono runtime (tests/MonoChecker/run.sh), and node's runner on tests/node (web
# players' demuxers) and web/sei-reader (the browser reader package, built with tsc first; scripts/node-tests.sh). Each writes .trx files into TestResults, which scripts/test-totals.sh sums.
test: build
	rm -rf .test-media TestResults
	status=0; \
	$(DOTNET) test CatEvening.sln -c $(CONFIG) --no-build --no-restore \
	  --logger "trx" --logger "console;verbosity=normal" --results-directory TestResults || status=1; \
	CONFIG=$(CONFIG) tests/MonoChecker/run.sh TestResults || status=1; \
	scripts/node-tests.sh TestResults || status=1; \
	exit $$status

bench: build
	$(DOTNET) run -c Release --project benchmarks/CatEvening.Benchmarks -- --filter '*' $(BENCH_ARGS)

# The SeiReader NuGet package (netstandard2.0 and net10.0, XML docs, package README, Unity link.xml), checked for its contents.
SEIREADER_NUPKG = artifacts/packages/CatEvening.SeiReader.0.1.0.nupkg
pack: build
	rm -f artifacts/packages/CatEvening.SeiReader.*.nupkg
	$(DOTNET) pack src/SeiReader/SeiReader.csproj -c $(CONFIG) --no-build --no-restore -nologo -v quiet -o artifacts/packages
	@for f in README.md Unity/link.xml lib/netstandard2.0/CatEvening.SeiReader.dll lib/netstandard2.0/CatEvening.SeiReader.xml \
	          lib/net10.0/CatEvening.SeiReader.dll lib/net10.0/CatEvening.SeiReader.xml; do \
	  unzip -l $(SEIREADER_NUPKG) | grep -q " $$f$$" || { echo "pack: $$f is missing from $(SEIREADER_NUPKG)"; exit 1; }; \
	done; \
	unzip -l $(SEIREADER_NUPKG) | grep -q "lib/netstandard2.1/" && { echo "pack: a netstandard2.1 build is back in $(SEIREADER_NUPKG) (it breaks Mono: see src/SeiReader/README.md)"; exit 1; }; \
	unzip -p $(SEIREADER_NUPKG) CatEvening.SeiReader.nuspec | grep -A4 'targetFramework=".NETStandard2.0"' | grep -q 'id="System.Memory"' \
	  || { echo "pack: the netstandard2.0 group of the nuspec does not depend on System.Memory"; exit 1; }; \
	echo "pack: $(SEIREADER_NUPKG) holds both targets, their XML docs, the README and Unity/link.xml"

# 10,000 simulated viewers, built against the package from `make pack` as any app would (report and plots in
# artifacts/viewersim). The package is restored into samples/ViewerSim/obj/packages so the fresh build is used.
viewersim: pack
	rm -rf samples/ViewerSim/obj/packages/catevening.seireader
	$(DOTNET) run -c $(CONFIG) --project samples/ViewerSim -p:UseSeiReaderPackage=true -- --out artifacts/viewersim $(VIEWERSIM_ARGS)

# Native AOT binaries into artifacts/bin (sei-inject: about a minute on 2 cores); scripts/demo.sh prefers them.
publish: deps
	$(DOTNET) publish src/SeiInjector/SeiInjector.csproj -c Release --use-current-runtime -o artifacts/bin

# sei-inject (Native AOT, built once) against FFmpeg 5.1 (host), 7.1 (Debian trixie chroot), 9.x and 8.x (sid chroot),
# judged by each release's own ffmpeg/ffprobe. Root; chroots cached in $${CATEVENING_MATRIX_DIR:-/var/cache/catevening-matrix}.
ffmpeg-matrix: deps
	@scripts/ffmpeg-matrix.sh $(MATRIX_ENVS)

# The NUnit suite (built here) run inside the trixie (FFmpeg 7.1) or sid (FFmpeg 9.x) chroot of `make ffmpeg-matrix`,
# so the tests load and are judged by that release (root; not part of `make test` or CI). Results: TestResults/chroot-*.
test-trixie: build
	@CONFIG=$(CONFIG) scripts/suite-in-chroot.sh trixie $(CHROOT_TESTS)

test-sid: build
	@CONFIG=$(CONFIG) scripts/suite-in-chroot.sh sid $(CHROOT_TESTS)

clean:
	rm -rf artifacts TestResults .test-media
	find . -name bin -o -name obj | xargs rm -rf
