# Sourced by the benchmark scripts: the release build in build-bench and
# the corpus of $flows flows in bench/corpus ($build and $corpus).
build=build-bench
corpus=bench/corpus/flows-$flows.gz
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release -Dtests=false -Dbench=true >/dev/null
fi
ninja -C "$build" >/dev/null
mkdir -p bench/corpus
[ -f "$corpus" ] || "$build/bench/gen_corpus" "$flows" "$corpus"
