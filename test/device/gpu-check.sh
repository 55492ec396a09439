#!/usr/bin/env bash
# The GPU check of issue 5, run on a lent GPU machine (never in CI): our backend's local launcher runs a PyTorch
# job on the GPU that logs into its MLflow run; GPU-aware admission makes a second 1-GPU job wait; asking for more
# GPUs than exist fails at once; and, when that machine has Docker, a GPU container through device requests.
# Needs .devcheck/bundle.tar.xz (node, dist/backend, runtime node_modules), made by test/device/make-bundle.sh.
set -u
B=/tmp/mlops-b; H=/tmp/gpu-home; rm -rf "$B" "$H"; mkdir -p "$B"
tar -xJf .devcheck/bundle.tar.xz -C "$B" || exit 1
export PATH="$B/bin:$PATH"
M() { node "$B/dist/backend/cli.mjs" --home "$H" "$@"; }
PY=${GPU_PY:-python3}
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

echo "== probe"; uname -m; node --version; nvidia-smi -L; nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader
for c in docker dockerd containerd nvidia-container-cli nvidia-ctk; do printf '%s: %s\n' "$c" "$(command -v $c || echo absent)"; done
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'

M serve > /tmp/serve.out 2>/tmp/serve.err &
for _ in $(seq 100); do [ -s "$H/backend.json" ] && break; sleep 0.1; done
cat /tmp/serve.out

echo "== 1. one job asking for 1 GPU (local launcher)"
t0=$(now); M train --local --gpus 1 --experiment gpu-check --name gpu-train -- $PY test/device/gpu_job.py; echo "exit $? after $(secs "$t0") s"
echo "-- the run as stored"; M runs list --experiment gpu-check --json 2>/dev/null | head -c 3000; echo
RUN=$(M runs list --experiment gpu-check --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const r=(j.runs??j)[0];console.log(r.info?.run_id??r.run_id)})')
M runs show "$RUN" 2>&1 | head -40

echo "== 2. 2 GPUs asked on a 1-GPU host"
t0=$(now); M train --local --gpus 2 -- $PY -c 'print("should not run")'; echo "exit $? after $(secs "$t0") s"

echo "== 3. two 1-GPU jobs at once: the second must wait for the first"
J1=$(M train --local --gpus 1 --experiment gpu-check --name hold-1 -d --json -- $PY test/device/gpu_job.py 4 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).job_id))')
J2=$(M train --local --gpus 1 --experiment gpu-check --name hold-2 -d --json -- $PY test/device/gpu_job.py 0 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).job_id))')
for _ in $(seq 120); do
  s1=$(M jobs show "$J1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
  s2=$(M jobs show "$J2" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
  echo "$(date +%T.%N | cut -c1-12) job1 $s1 job2 $s2"
  case "$s1$s2" in *queued*|*running*) sleep 1;; *) break;; esac
done
for j in "$J1" "$J2"; do M jobs show "$j" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.job_id,j.status,"gpus",JSON.stringify(j.gpus),"started",j.started_at,"ended",j.ended_at,"exit",j.exit_code,j.reason??"")})'; done

echo "== 4. Docker with a GPU"
if command -v dockerd >/dev/null; then
  (dockerd --bridge=none --iptables=false >/tmp/dockerd.log 2>&1 &); sleep 5
  docker info 2>&1 | grep -i -E 'runtimes|gpu' ; docker images
else
  echo "no Docker on this machine: a GPU container cannot be run here"
fi
M jobs list 2>&1 | head
kill %1 2>/dev/null; wait
