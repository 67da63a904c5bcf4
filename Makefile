# gan_zoo: every target creates the environment first if it is missing (make install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: install demo train test test-all lint bench sweep-roadmap sweep-loss-ablation sweep-biggan-ablation sweep-mode-collapse reproduce-table \
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

# The R3GAN roadmap (8 rows x 3 seeds) and the StackedMNIST loss ablation at the CPU budget; a re-launch
# skips finished runs and resumes unfinished ones. Two processes per sweep use both cores.
sweep-roadmap: install
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=roadmap budget=cpu_mini trainer.enable_progress_bar=false \
	  experiment=roadmap/cpu_mini/A,roadmap/cpu_mini/C_rpgan,roadmap/cpu_mini/D_no_skips,roadmap/cpu_mini/E_grouped & \
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=roadmap budget=cpu_mini trainer.enable_progress_bar=false \
	  experiment=roadmap/cpu_mini/B,roadmap/cpu_mini/C_r2,roadmap/cpu_mini/D_resnet,roadmap/cpu_mini/E_inverted; wait

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

# BigGAN's Table 1 at CPU scale (sweeps/biggan_ablation.yaml: 8 rows x 2 seeds on stacked digits at 16 px).
BG := biggan/ablation
sweep-biggan-ablation: install
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=biggan_ablation trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(BG)/r1_sagan,$(BG)/r4_batch64,$(BG)/r6_shared,$(BG)/r8_ortho & \
	OMP_NUM_THREADS=1 $(PY) -m gan_zoo.train -m +sweep=biggan_ablation trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(BG)/r2_batch16,$(BG)/r5_width,$(BG)/r7_skipz,$(BG)/ndis1; wait

# The paper's tables rebuilt from your finished runs (see README: sweeps).
# The 2-D mode-collapse benchmark (sweeps/mode_collapse.yaml): ring and grid side by side, one thread each,
# niced; seeds are the outer loop, a re-launch skips finished runs.
MC := mode_collapse
sweep-mode-collapse: install
	OMP_NUM_THREADS=1 nice -n 10 $(PY) -m gan_zoo.train -m +sweep=mode_collapse trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(MC)/ring/gan,$(MC)/ring/pacgan4,$(MC)/ring/minibatch_discrimination,$(MC)/ring/rpgan_r1r2_pack4 & \
	OMP_NUM_THREADS=1 nice -n 10 $(PY) -m gan_zoo.train -m +sweep=mode_collapse trainer.enable_progress_bar=false $(ARGS) \
	  experiment=$(MC)/grid/gan,$(MC)/grid/pacgan4,$(MC)/grid/minibatch_discrimination,$(MC)/grid/rpgan_r1r2_pack4; wait

reproduce-table: install
	$(PY) -m gan_zoo.report runs/sweeps/roadmap --table r3gan_roadmap --budget cpu_mini --out reports/roadmap
	$(PY) -m gan_zoo.report runs/sweeps/stackedmnist_loss_ablation --table r3gan_loss_ablation --metric modes,kl \
	  --budget $(ABLATION_BUDGET) --out reports/loss_ablation/$(ABLATION_BUDGET)
	test ! -d runs/sweeps/biggan_ablation || $(PY) -m gan_zoo.report runs/sweeps/biggan_ablation --table biggan_table1 \
	  --metric fd,modes --budget cpu_biggan_ablation --out reports/biggan_ablation
	test ! -d runs/sweeps/mode_collapse || for t in zoo_ring zoo_grid; do $(PY) -m gan_zoo.report runs/sweeps/mode_collapse \
	  --table $$t --metric modes,hq,kl --out reports/mode_collapse || exit 1; done
	test ! -d runs/sweeps/mode_collapse || $(PY) -m gan_zoo.paper_tables.zoo runs/sweeps/mode_collapse --out reports/mode_collapse

clean:
	rm -rf runs reports .pytest_cache
