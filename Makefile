# The kit's user interface. `make` alone lists the targets.
# Every target wraps one `python -m kit VERB --comp ...` command, which also works on its own.

COMP   ?= fashion-mnist
PRESET ?=
SET    ?=
DATA   ?=
PARAMS ?=
RUN    ?=
MODEL  ?=
MODELS ?=
FRACTIONS ?=
FILE   ?=
MSG    ?=
FORCE  ?=
GPU    ?=
INTERNET ?=

VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KIT    := $(PYTHON) -m kit
ARGS   := --comp $(COMP) $(if $(PRESET),--preset $(PRESET)) $(if $(DATA),--data $(DATA)) \
          $(if $(PARAMS),--params $(PARAMS)) \
          $(if $(SET)$(MODEL),--set $(if $(MODEL),train.model=$(MODEL)) $(SET))

.DEFAULT_GOAL := help
.PHONY: help setup run test data audit train predict models lint bench clean compare learning-curve reproduce

help: ## list the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-15s %s\n", $$1, $$2}'
	@echo "  variables: COMP (name or alias, default fashion-mnist) PRESET SET=\"key=value ...\" DATA=<folder> PARAMS=best RUN=<run> MODEL=<model> MODELS=\"a b\""
	@echo "  FILE=<csv> (submit, reproduce); kaggle: MSG=\"...\" FORCE=1 (submit), GPU=1 INTERNET=1 (kernel)"

setup: $(STAMP) ## create .venv and install the kit (fast when nothing changed)

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[jax,dev]'
	touch $(STAMP)

run: setup ## the whole pipeline on COMP (default: the embedded Fashion-MNIST sample)
	$(KIT) run $(ARGS)

test: setup ## run the test suite
	$(PYTHON) -m pytest $(PYTEST_ARGS)

data: setup ## check (and with a Kaggle account, download) the competition's files
	$(KIT) data $(ARGS)

audit: setup ## duplicates, blank images, class balance chart, examples per class
	$(KIT) audit $(ARGS)

train: setup ## train COMP's model; RESUME=1 continues the newest interrupted run
	$(KIT) train $(ARGS) $(if $(RESUME),--resume $(RUN))

# tuning (kit/tune/); each variable overrides its key of the [tune] config section
N_TRIALS ?=
TIMEOUT  ?=
STORAGE  ?=
WORKERS  ?=
STUDY    ?=
SAMPLER  ?=
PRUNER   ?=
PORT     ?= 8080
STUDY_ARGS := $(if $(STORAGE),--storage "$(STORAGE)") $(if $(STUDY),--study "$(STUDY)")
TUNE_ARGS  := $(STUDY_ARGS) $(if $(N_TRIALS),--n-trials $(N_TRIALS)) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
              $(if $(WORKERS),--workers $(WORKERS)) $(if $(SAMPLER),--sampler $(SAMPLER)) \
              $(if $(PRUNER),--pruner $(PRUNER))
.PHONY: tune dashboard

tune: setup ## Optuna study on COMP's space.py (N_TRIALS TIMEOUT STORAGE WORKERS STUDY SAMPLER PRUNER)
	$(KIT) tune $(ARGS) $(TUNE_ARGS)

dashboard: setup ## optuna-dashboard on COMP's study at http://127.0.0.1:8080 (STORAGE=, STUDY=, PORT=)
	$(KIT) dashboard $(ARGS) $(STUDY_ARGS) --port $(PORT)

predict: setup ## predict the test set (TTA, ensemble RUN="a b") and write a submission
	$(KIT) predict $(ARGS) $(if $(RUN),--runs $(RUN))

compare: setup ## train MODELS="a b" (default: compare.models) on one split; table + chart
	$(KIT) compare $(ARGS) $(if $(MODELS),--models $(MODELS))

learning-curve: setup ## MODEL on growing fractions (FRACTIONS="0.1 0.5 1"); train vs validation
	$(KIT) learning-curve $(ARGS) $(if $(FRACTIONS),--fractions $(FRACTIONS))

reproduce: setup ## re-create FILE (a submission) from its record alone, as a new file; compare the labels
	$(KIT) reproduce $(ARGS) $(if $(FILE),--file "$(FILE)")

models: setup ## list the registered models
	$(KIT) models $(ARGS)

.PHONY: submit leaderboard kernel kernel-push kernel-status kernel-output
submit: setup ## validate, upload once and poll FILE (default: newest); MSG="..."; FORCE=1 resubmits
	$(KIT) submit $(ARGS) $(if $(FILE),--file "$(FILE)") $(if $(MSG),--message "$(MSG)") $(if $(FORCE),--force)

leaderboard: setup ## sync submissions and the public leaderboard; best score, rank, table, plot
	$(KIT) leaderboard $(ARGS)

kernel: setup ## build a self-contained Kaggle kernel in build/COMP/kernel (GPU=1, INTERNET=1)
	$(KIT) kernel $(ARGS) $(if $(GPU),--gpu) $(if $(INTERNET),--internet)

kernel-push: setup ## push the built kernel to Kaggle, which runs it
	$(KIT) kernel-push $(ARGS)

kernel-status: setup ## status of the pushed kernel's run
	$(KIT) kernel-status $(ARGS)

kernel-output: setup ## fetch the kernel's submission.csv and log; track the submission
	$(KIT) kernel-output $(ARGS)

bench: setup ## benchmarks (never part of test): image input pipeline; throughput vs ImageDataGenerator, time to accuracy, TTA
	$(PYTHON) bench/input_pipeline.py
	$(PYTHON) bench/bench.py $(BENCH_ARGS)

lint: setup ## ruff: lint rules and formatting (`ruff format` fixes the layout)
	$(VENV)/bin/ruff check kit tests competitions bench
	$(VENV)/bin/ruff format --check kit tests competitions bench

clean: ## remove artifacts/, build/ (keeps submissions/ and data/)
	rm -rf artifacts build
