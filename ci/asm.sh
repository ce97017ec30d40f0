#!/usr/bin/env bash
# Instruction check: the probe binary (ci/asm/probe, one never-inlined
# wrapper per hot operation) is built for aarch64 without LSE (read-modify-
# writes call the `__aarch64_*` outline-atomic helpers), aarch64 with LSE
# (`-C target-feature=+lse`: ldadd/swp/cas with acquire/release suffixes) and
# x86-64, disassembled, and every line of ci/asm/*.txt is checked:
#
#   symbol  targets  must-contain  must-not-contain
#
# `symbol` is a probe (`probe_counter_add`) or a demangled library function
# (`acqrel::counter::Counter::add_bounded`, for functions that are not
# `#[inline]` and so stay out of line); `targets` is a comma list of
# aarch64, aarch64+lse, x86_64; the last two columns are comma lists of
# extended regular expressions (or `-`), each matched against the whole of a
# normalised instruction: the mnemonic (`ldar`, `stlr`, `ldaddal`, `casal`,
# `xchg`), with the operand joined by `:` for barriers and prefixes
# (`dmb:ish`, `lock:xadd`) and the target symbol for branches
# (`bl:__aarch64_ldadd8_rel`).
#
# A fence or a full barrier must be claimed: any `dmb` (aarch64) or
# `mfence`, `lock or` (LLVM's usual x86-64 `fence(SeqCst)`) or `xchg`
# (x86-64) in a probe or an `acqrel::` function fails the job unless that
# function's line for that target requires it (trait methods of acqrel's
# types, `<acqrel::...>::f`, included).
#
# `bash ci/asm.sh --table` also prints the atomic instructions of every
# checked symbol per target (the table in SAFETY.md's "Instructions").
source "$(dirname "$0")/lib.sh"
setup_aarch64
ensure_apt objdump binutils

manifest=ci/asm/probe/Cargo.toml
bin=acqrel-asm-probe
work=target/asm
mkdir -p "$work"

build() { # name triple rustflags
    log "build probe: $1"
    RUSTFLAGS="$3" cargo build --quiet --release --manifest-path "$manifest" \
        --target "$2" --target-dir "$work/$1"
}
build aarch64 aarch64-unknown-linux-gnu ""
build aarch64+lse aarch64-unknown-linux-gnu "-C target-feature=+lse"
build x86_64 x86_64-unknown-linux-gnu ""
"$work/x86_64/x86_64-unknown-linux-gnu/release/$bin" # the probes themselves work

# objdump output -> "symbol<TAB>normalised instruction" lines.
normalise() {
    awk '
        /^[0-9a-f]+ <.*>:$/ { sym = $0; sub(/^[0-9a-f]+ </, "", sym); sub(/>:$/, "", sym); next }
        /^$/ { sym = ""; next }
        sym != "" && /^ *[0-9a-f]+:\t/ {
            line = $0; sub(/^ *[0-9a-f]+:\t/, "", line)
            n = split(line, w, /[ \t]+/); m = w[1]
            if (m == "xchg" && w[2] == "%ax,%ax") m = "nop" # `66 90`, the two-byte nop of code alignment
            else if (m ~ /^(lock|rep|repz|repnz|repe|repne)$/ || m ~ /^(dmb|dsb)$/) m = m ":" w[2]
            else if (m ~ /^(b|bl|call|jmp)$/ && match(line, /<[^>]*>/)) {
                t = substr(line, RSTART + 1, RLENGTH - 2); sub(/\+0x[0-9a-f]+$/, "", t); m = m ":" t
            }
            print sym "\t" m
        }'
}
for t in aarch64 aarch64+lse x86_64; do
    case $t in
        x86_64) objdump=objdump; triple=x86_64-unknown-linux-gnu ;;
        *) objdump=aarch64-linux-gnu-objdump; triple=aarch64-unknown-linux-gnu ;;
    esac
    "$objdump" -d -C --no-show-raw-insn "$work/$t/$triple/release/$bin" | normalise >"$work/$t.ins"
done

failures=0 checks=0
fail() { echo "asm: FAIL: $*" >&2; failures=$((failures + 1)); }
specs=$(mktemp)
cat ci/asm/*.txt | sed 's/#.*//' | awk 'NF' >"$specs"
while read -r sym targets must mustnot; do
    sym=${sym//\~/ }
    for t in ${targets//,/ }; do
        [ -f "$work/$t.ins" ] || { fail "unknown target $t for $sym"; continue; }
        ins=$(awk -F'\t' -v s="$sym" '$1 == s { print $2 }' "$work/$t.ins")
        if [ -z "$ins" ]; then fail "$sym: no such symbol on $t (renamed, inlined, or folded into an identical function?)"; continue; fi
        if [ "$must" != - ]; then
            for p in ${must//,/ }; do
                checks=$((checks + 1))
                grep -Eqx -- "$p" <<<"$ins" || fail "$sym on $t: no instruction matches '$p'"
            done
        fi
        if [ "${mustnot:--}" != - ]; then
            for p in ${mustnot//,/ }; do
                checks=$((checks + 1))
                if hit=$(grep -Ex -- "$p" <<<"$ins"); then
                    fail "$sym on $t: forbidden '$p' found: $(echo $hit)"
                fi
            done
        fi
    done
done <"$specs"

# Unclaimed fences and full barriers.
for t in aarch64 aarch64+lse x86_64; do
    case $t in x86_64) barrier='mfence|lock:or[bwlq]?|xchg|lock:xchg' ;; *) barrier='dmb:.*|dsb:.*' ;; esac
    while IFS=$'\t' read -r sym insn; do
        checks=$((checks + 1))
        claimed=$(awk -v s="$sym" -v t="$t" '{ gsub(/~/, " ", $1) } $1 == s && index("," $2 ",", "," t ",") { print $3 }' "$specs" |
            tr ',' '\n' | while read -r p; do if grep -Eqx -- "$p" <<<"$insn"; then echo yes; fi; done)
        [ -n "$claimed" ] || fail "$sym on $t: '$insn' that no line of ci/asm/*.txt claims"
    done < <(grep -E "^(probe_|<?acqrel::)[^	]*	($barrier)\$" "$work/$t.ins" | sort -u)
done

if [ "${1:-}" = --table ]; then
    atomic='ld[a-z]*a[a-z]*r[a-z]*|st[a-z]*l[a-z]*r[a-z]*|ldxr|stxr|ld(add|clr|eor|set|[su]max|[su]min)[al]*[bh]?|swp[al]*[bh]?|cas[al]*[bh]?|dmb:.*|bl:__aarch64_.*|lock:.*|xchg|mfence'
    echo "(atomic and barrier instructions only; \`lock:xadd\` is \`lock xadd\`)"
    echo
    echo "| symbol | aarch64 | aarch64+lse | x86_64 |"
    echo "|---|---|---|---|"
    cut -d' ' -f1 "$specs" | awk '!seen[$0]++' | tr '~' ' ' | while read -r sym; do
        row="| \`$sym\` |"
        for t in aarch64 aarch64+lse x86_64; do
            cell=$(awk -F'\t' -v s="$sym" '$1 == s { print $2 }' "$work/$t.ins" | grep -Ex "$atomic" |
                sed 's/^bl://' | awk '!seen[$0]++' | paste -sd' ' - | sed 's/ /, /g' || true)
            row="$row ${cell:-plain loads/stores} |"
        done
        echo "$row"
    done
fi

echo "asm: $checks checks over $(wc -l <"$specs") lines, $failures failed"
[ "$failures" -eq 0 ]
