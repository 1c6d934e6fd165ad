#!/usr/bin/env python3
# Where a profile's time goes under one frame: for each sample whose stack holds a frame
# matching PATTERN (the outermost such), counts the DEPTH frames it calls into; shares of those
# samples, names demangled. Usage: perf script -i perf.data | Tools/perf-under.py PATTERN [DEPTH]
# e.g. Tools/perf-under.py 'EngineC9applyPush' 1 (BENCHMARKS.md "Twenty-second session").
import sys, re, collections, subprocess
pat = re.compile(sys.argv[1]); depth = int(sys.argv[2]) if len(sys.argv) > 2 else 1
def demangle(names):
    p = subprocess.run(['swift', 'demangle', '--simplified', '--compact'], input='\n'.join(names), capture_output=True, text=True)
    return p.stdout.split('\n')
total = 0; hits = collections.Counter(); stack = []
def flush():
    global total
    if not stack: return
    frames = stack[::-1]  # outermost first
    for i, f in enumerate(frames):
        if pat.search(f):
            total += 1
            chain = tuple(frames[i+1:i+1+depth])
            hits[chain if chain else ('<self>',)] += 1
            break
for line in sys.stdin:
    line = line.rstrip('\n')
    if not line.strip():
        flush(); stack = []; continue
    if line.startswith((' ', '\t')):
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            sym = parts[1].rsplit(' (', 1)[0]
            sym = re.sub(r'\+0x[0-9a-f]+$', '', sym)
            stack.append(sym)
flush()
names = sorted({n for c in hits for n in c})
dm = dict(zip(names, demangle(names)))
print(f"{total} samples")
for chain, n in hits.most_common(40):
    print(f"{100*n/total:6.2f}%  " + ' > '.join(dm.get(x, x)[:90] for x in chain))
