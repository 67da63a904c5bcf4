# gan_zoo: every target creates the environment first if it is missing (make install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: install demo train test test-all lint bench bench-r3gan bench-gpu sweep-roadmap sweep-roadmap16 sweep-roadmap-fmnist8 sweep-loss-ablation sweep-loss-ablation-fmnist8 \
  sweep-biggan-ablation sweep-toy2d-ablation sweep-dirac sweep-mode-collapse sweep-mode-collapse-stacked reproduce-table \
	clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# R3GAN config E (tiny CPU preset) on stacked scikit-learn digits for a few minutes; prints where the outputs are.
demo: install
	$(PY) -m gan_zoo.train experiment=demo $(ARGS)

# Any composition: make train ARGS="dataset=toy2d_ring model=mlp total_kimg=50"
train: install
	$(PY) -m gan_zoo.train $(ARGS)

# The quick suite: slow tests (multi-process DDP, torch.compile with inductor) are deselected; CI runs test-all.
test: install
	$(VENV)/bin/pytest -q -m "not slow" $(ARGS)

test-all: install
	$(VENV)/bin/pytest -q $(ARGS)

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

# Benchmarks are not tests: each writes JSON under benchmarks/results/ (ratios measured within one run).
bench: install
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_loader.py
	test ! -f benchmarks/bench_metrics.py || $(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_budgets.py
	$(MAKE) bench-r3gan

# gan_zoo's R3GAN D+G step vs the official brownvc/R3GAN code, side by side (issue 10; docs/speed.md):
# R3GAN_SRC=/path/to/extracted/R3GAN make bench-r3gan [BENCH_ARGS="--batch 4"]. Without R3GAN_SRC gan_zoo is
# timed alone. Passive OpenMP waiting: on a shared CPU, spinning threads waste the cores other jobs need.
BENCH_ARGS ?=
bench-r3gan: install
	OMP_WAIT_POLICY=PASSIVE $(PY) benchmarks/bench_r3gan.py $(BENCH_ARGS)
	OMP_WAIT_POLICY=PASSIVE $(PY) benchmarks/bench_overhead.py --preset tiny8

# CUDA: config E CIFAR-10 at batch 512, bf16 stages, channels_last x compile, official beside it with R3GAN_SRC
# (< 8 min); on a machine without CUDA it runs its CPU smoke mode.
bench-gpu: install
	$(PY) benchmarks/bench_gpu.py $(BENCH_ARGS)

# The R3GAN roadmap (8 rows x 3 seeds) and the StackedMNIST loss ablation at the CPU budget; a re-launch
# skips finished runs and resumes unfinished ones. Two processes per sweep use both cores.
sweep-roadmap: install
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=roadmap budget=cpu_mini trainer.enable_progress_bar=false \
	  experiment=roadmap/cpu_mini/A,roadmap/cpu_mini/C_rpgan,roadmap/cpu_mini/D_no_skips,roadmap/cpu_mini/E_grouped & \
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=roadmap budget=cpu_mini trainer.enable_progress_bar=false \
	  experiment=roadmap/cpu_mini/B,roadmap/cpu_mini/C_r2,roadmap/cpu_mini/D_resnet,roadmap/cpu_mini/E_inverted; wait

# The roadmap at 16 px (stacked Fashion-MNIST, budget=cpu_16px; sweeps/roadmap16.yaml): rows B, C (+R2), D (-output
# skips), E (+inverted bottleneck) x seeds 0, 1, seeds outermost, each half niced on one thread (~1 hour on 2 busy
# cores). Trains the 16 px classifier first if it is not cached.
R16 := roadmap/cpu_16px
sweep-roadmap16: install
	test -f $${GAN_ZOO_CACHE:-$$HOME/.cache/gan_zoo}/classifiers/fmnist16.pt || OMP_NUM_THREADS=1 $(PY) -m \
	  gan_zoo.metrics.train_classifier dataset=fmnist resolution=16 name=fmnist16
	for half in $(R16)/B,$(R16)/E_inverted $(R16)/C_r2,$(R16)/D_no_skips; do ( for s in 0 1; do \
	  OMP_NUM_THREADS=1 nice -n 10 $(PY) -m gan_zoo.train -m +sweep=roadmap16 trainer.enable_progress_bar=false \
	  experiment=$$half seed=$$s $(ARGS) || exit 1; done ) & done; wait

# The roadmap on stacked Fashion-MNIST at 8 px for 300 kimg (sweeps/roadmap_fmnist8.yaml: B, C (+R2), D (-output
# skips), E (+inverted bottleneck) x seeds 0-2, budget=cpu_long). One work queue, two processes, one thread each:
# seeds outermost, so a sweep stopped early has whole seeds of every row; a re-launch skips finished runs and
# resumes the rest. Trains the 8 px classifier first if it is not cached. ~35 min per D/E run, ~15 per B/C.
# ROADMAP_FMNIST8_BUDGET=cpu_xl runs it twice as long (600 kimg, ~1 h per D/E run) in its own run dirs.
ROADMAP_FMNIST8_BUDGET ?= cpu_long
RF8 := roadmap/cpu_fmnist8
sweep-roadmap-fmnist8: install
	test -f $${GAN_ZOO_CACHE:-$$HOME/.cache/gan_zoo}/classifiers/fmnist8.pt || OMP_NUM_THREADS=1 $(PY) -m \
	  gan_zoo.metrics.train_classifier dataset=fmnist resolution=8 name=fmnist8
	for half in $(RF8)/E_inverted,$(RF8)/B $(RF8)/D_no_skips,$(RF8)/C_r2; do ( for s in 0 1 2; do \
	  OMP_NUM_THREADS=1 nice -n 5 $(PY) -m gan_zoo.train -m +sweep=roadmap_fmnist8 trainer.enable_progress_bar=false \
	  budget=$(ROADMAP_FMNIST8_BUDGET) experiment=$$half seed=$$s $(ARGS) || exit 1; done ) & done; wait

# ABLATION_BUDGET=cpu_long runs Table 1 5x longer (300 kimg, ~12 min a run), e.g. one seed:
#   make sweep-loss-ablation ABLATION_BUDGET=cpu_long ARGS=seed=0 && make reproduce-table ABLATION_BUDGET=cpu_long
ABLATION_BUDGET ?= cpu_mini
LA := loss_ablation/cpu_mini
sweep-loss-ablation: install
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=stackedmnist_loss_ablation budget=$(ABLATION_BUDGET) \
	  trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(LA)/rpgan_r1_r2,$(LA)/rpgan_r1_gamma0p1,$(LA)/rpgan_r1,$(LA)/rpgan_r1_gamma10 & \
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=stackedmnist_loss_ablation budget=$(ABLATION_BUDGET) \
	  trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(LA)/gan_r1_r2,$(LA)/gan_r1_gamma0p1,$(LA)/gan_r1,$(LA)/gan_r1_gamma10; wait

# Table 1 on stacked Fashion-MNIST at 8 px (sweeps/stackedfmnist_loss_ablation.yaml: 4 rows x 3 seeds, the
# stacked-digits recipe on garments): RpGAN rows in one process, GAN rows in the other; e.g. ABLATION_BUDGET=cpu_long.
LAF := loss_ablation/cpu_fmnist8
sweep-loss-ablation-fmnist8: install
	test -f $${GAN_ZOO_CACHE:-$$HOME/.cache/gan_zoo}/classifiers/fmnist8.pt || OMP_NUM_THREADS=1 $(PY) -m \
	  gan_zoo.metrics.train_classifier dataset=fmnist resolution=8 name=fmnist8
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=stackedfmnist_loss_ablation budget=$(ABLATION_BUDGET) \
	  trainer.enable_progress_bar=false $(ARGS) experiment=$(LAF)/rpgan_r1_r2,$(LAF)/rpgan_r1 & \
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=stackedfmnist_loss_ablation budget=$(ABLATION_BUDGET) \
	  trainer.enable_progress_bar=false $(ARGS) experiment=$(LAF)/gan_r1_r2,$(LAF)/gan_r1; wait

# BigGAN's Table 1 at CPU scale (sweeps/biggan_ablation.yaml: 8 rows x 2 seeds on stacked digits at 16 px).
BG := biggan/ablation
sweep-biggan-ablation: install
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=biggan_ablation trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(BG)/r1_sagan,$(BG)/r4_batch64,$(BG)/r6_shared,$(BG)/r8_ortho & \
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=biggan_ablation trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(BG)/r2_batch16,$(BG)/r5_width,$(BG)/r7_skipz,$(BG)/ndis1; wait

# R3GAN Table 1's loss rows (+ unregularised RpGAN and GAN) on the 2-D ring, 10 seeds (PacGAN protocol, the
# MLPs of experiments/toy2d): seeds outermost so a partial sweep has every row; one thread, niced. The GRID rows
# are runs of the mode-collapse sweep (PacGAN's networks, experiments/mode_collapse/grid/<row>.yaml with
# table.also: r3gan_toy2d_ablation_grid), shared rather than run twice: make sweep-mode-collapse.
T2 := toy2d_ablation
T2_ROWS = $(T2)/$(1)/rpgan_r1_r2,$(T2)/$(1)/gan_r1_r2,$(T2)/$(1)/rpgan_r1,$(T2)/$(1)/gan_r1,$(T2)/$(1)/rpgan,$(T2)/$(1)/gan
T2_SEEDS ?= 0 1 2 3 4 5 6 7 8 9
sweep-toy2d-ablation: install
	for s in $(T2_SEEDS); do OMP_NUM_THREADS=1 nice -n 10 $(PY) -m gan_zoo.train -m +sweep=toy2d_loss_ablation \
	  experiment=$(call T2_ROWS,ring) seed=$$s $(ARGS) || exit 1; done

# The Dirac-GAN: loss x penalty x gamma through the training step, plain SGD and Adam (sweeps/dirac.yaml; minutes).
sweep-dirac: install
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=dirac optimizer=sgd ++lr=0.2 $(ARGS)
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=dirac optimizer=adam ++lr=0.02 $(ARGS)

# The 2-D mode-collapse benchmark (sweeps/mode_collapse.yaml): loss x penalty x trick on the ring and grid with
# PacGAN's networks, 10 seeds (MC_SEEDS). Two halves side by side, one thread each, niced; seeds are the outer
# loop (a sweep stopped at any time has whole seeds of every entry) and a re-launch skips finished runs. The
# grid's loss x penalty rows are R3GAN Table 1's 2-D grid ablation too (table.also).
MC := mode_collapse
MC_SEEDS ?= 0 1 2 3 4 5 6 7 8 9
# where reproduce-table reads the sweep (GAN_ZOO_RUNS=<dir> moves it to <dir>/sweeps/mode_collapse)
MC_RUNS ?= runs/sweeps/mode_collapse
MC_A = $(MC)/grid/gan,$(MC)/grid/pacgan4,$(MC)/grid/rpgan_r1_r2,$(MC)/grid/gan_r1_r2,$(MC)/grid/rpgan_r1r2_pack4
MC_B = $(MC)/ring/gan,$(MC)/ring/pacgan4,$(MC)/grid/rpgan,$(MC)/grid/gan_r1,$(MC)/grid/rpgan_r1,$(MC)/grid/rpgan_r1r2_tanh
MC_B := $(MC_B),$(MC)/ring/minibatch_discrimination,$(MC)/ring/rpgan_r1r2_pack4
sweep-mode-collapse: install
	for half in "$(MC_A)" "$(MC_B)"; do ( for s in $(MC_SEEDS); do OMP_NUM_THREADS=1 nice -n 10 $(PY) -m gan_zoo.train \
	  -m +sweep=mode_collapse trainer.enable_progress_bar=false experiment=$$half seed=$$s $(ARGS) || exit 1; \
	  done ) & done; wait

# The stacked-digits half of the mode-collapse benchmark (sweeps/mode_collapse_stacked.yaml): 30 runs, one
# process, ~15 core-minutes; a re-launch skips finished runs.
sweep-mode-collapse-stacked: install
	OMP_NUM_THREADS=1 nice -n 10 $(PY) -m gan_zoo.train -m +sweep=mode_collapse_stacked trainer.enable_progress_bar=false $(ARGS)

# The paper's tables rebuilt from your finished runs (see README: sweeps), each with its scale in the caption, the
# verdict on every claim it tests ("consistent with the paper" / "not reproduced at this scale", computed from
# the numbers) and one self-contained HTML page per study (reports/*/*.html); the Dirac-GAN study runs here.
reproduce-table: install
	@for pair in roadmap:roadmap roadmap16:roadmap16 roadmap_fmnist8:roadmap-fmnist8 stackedmnist_loss_ablation:loss-ablation \
	  stackedfmnist_loss_ablation:loss-ablation-fmnist8 \
	  biggan_ablation:biggan-ablation toy2d_loss_ablation:toy2d-ablation mode_collapse:mode-collapse \
	  mode_collapse_stacked:mode-collapse-stacked; do d=runs/sweeps/$${pair%%:*}; test -d $$d || \
	  echo "reproduce-table: no runs under $$d yet, its tables are skipped (make sweep-$${pair##*:} runs them)"; done
	test ! -d runs/sweeps/roadmap || $(PY) -m gan_zoo.report runs/sweeps/roadmap --table r3gan_roadmap --budget cpu_mini \
	  --out reports/roadmap
	test ! -d runs/sweeps/roadmap16 || for at in "" "--at-kimg 8"; do $(PY) -m gan_zoo.report runs/sweeps/roadmap16 \
	  --table r3gan_roadmap --budget cpu_16px --out reports/roadmap16 $$at || exit 1; done
	test ! -d runs/sweeps/roadmap_fmnist8 || $(PY) -m gan_zoo.report runs/sweeps/roadmap_fmnist8 --table r3gan_roadmap \
	  --metric fd,modes,kl --budget $(ROADMAP_FMNIST8_BUDGET) --out reports/roadmap_fmnist8/$(ROADMAP_FMNIST8_BUDGET)
	test ! -d runs/sweeps/roadmap_fmnist8 || $(PY) -m gan_zoo.report.budget runs/sweeps/roadmap_fmnist8 \
	  --table r3gan_roadmap --metric fd,modes,kl --budget $(ROADMAP_FMNIST8_BUDGET) --target-kimg 5000 \
	  --data-reference --out reports/roadmap_fmnist8_budget/$(ROADMAP_FMNIST8_BUDGET)
	test ! -d runs/sweeps/stackedmnist_loss_ablation || $(PY) -m gan_zoo.report runs/sweeps/stackedmnist_loss_ablation \
	  --table r3gan_loss_ablation --metric modes,kl --budget $(ABLATION_BUDGET) --out reports/loss_ablation/$(ABLATION_BUDGET)
	test ! -d runs/sweeps/stackedmnist_loss_ablation || $(PY) -m gan_zoo.report.budget runs/sweeps/stackedmnist_loss_ablation \
	  --table r3gan_loss_ablation --metric modes,kl --budget $(ABLATION_BUDGET) --target-kimg 10000 \
	  --data-reference --out reports/loss_ablation_budget/$(ABLATION_BUDGET)
	test ! -d runs/sweeps/stackedfmnist_loss_ablation || $(PY) -m gan_zoo.report.budget \
	  runs/sweeps/stackedfmnist_loss_ablation --table r3gan_loss_ablation --metric modes,kl --budget $(ABLATION_BUDGET) \
	  --target-kimg 10000 --data-reference --out reports/loss_ablation_fmnist8_budget/$(ABLATION_BUDGET)
	test ! -d runs/sweeps/biggan_ablation || $(PY) -m gan_zoo.report runs/sweeps/biggan_ablation --table biggan_table1 \
	  --metric fd,modes --budget cpu_biggan_ablation --out reports/biggan_ablation
	$(PY) -m gan_zoo.report.dirac --out reports/dirac
	test ! -d runs/sweeps/toy2d_loss_ablation/toy2d_ablation/ring || $(PY) -m gan_zoo.report \
	  runs/sweeps/toy2d_loss_ablation/toy2d_ablation/ring --table r3gan_toy2d_ablation_ring --metric modes,hq,kl \
	  --out reports/toy2d_ablation/ring
	test ! -d $(MC_RUNS)/$(MC)/grid || $(PY) -m gan_zoo.report $(MC_RUNS) \
	  --table r3gan_toy2d_ablation_grid --budget mode_collapse --metric modes,hq,kl --out reports/toy2d_ablation/grid
	for t in ring grid; do test ! -d $(MC_RUNS)/$(MC)/$$t || $(PY) -m gan_zoo.report $(MC_RUNS) \
	  --table zoo_$$t --budget mode_collapse --metric modes,hq,kl --out reports/mode_collapse || exit 1; done
	test ! -d $(MC_RUNS) || $(PY) -m gan_zoo.paper_tables.zoo $(MC_RUNS) --out reports/mode_collapse
	test ! -d runs/sweeps/mode_collapse_stacked || for t in zoo_stacked_quarter zoo_stacked_half; do $(PY) -m gan_zoo.report \
	  runs/sweeps/mode_collapse_stacked --table $$t --metric modes,kl --out reports/mode_collapse_stacked || exit 1; done

clean:
	rm -rf runs reports .pytest_cache
