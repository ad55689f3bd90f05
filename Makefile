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
BACKEND ?=
INTERNET ?=
METRIC ?=
RESUME ?=
# tuning (kit/tune/); each variable overrides its key of the [tune] config section
N_TRIALS ?=
TIMEOUT  ?=
STORAGE  ?=
WORKERS  ?=
STUDY    ?=
SAMPLER  ?=
PRUNER   ?=
PORT     ?= 8080
BENCH_ARGS  ?=
PART        ?=
PYTEST_ARGS ?=

# What a user sets is data, never make or shell code (MSG='try `rm -rf ~`', DATA="my data"):
# every variable is taken verbatim (make expands nothing in it), exported as KIT_MAKE_<NAME>,
# and recipes pass it as "$KIT_MAKE_<NAME>" ($(call q,NAME)), which the shell substitutes as
# one word without running anything in it. The kit splits SET, RUN, MODELS and FRACTIONS into
# words; $(call split_words,NAME) splits PYTEST_ARGS and BENCH_ARGS like a shell (quotes honoured).
USER_VARS := COMP PRESET SET DATA PARAMS RUN MODEL MODELS FRACTIONS FILE MSG FORCE GPU INTERNET METRIC BACKEND \
             RESUME N_TRIALS TIMEOUT STORAGE WORKERS STUDY SAMPLER PRUNER PORT BENCH_ARGS PART PYTEST_ARGS
# A variable make does not know would be ignored without a word (TRIALS=2 running the default 20
# trials, MODLE=knn training the default model): one line naming the closest known one instead.
# Settings the kit or its libraries read from the environment pass (make KIT_WORKDIR=/tmp/w run).
UNKNOWN_VARS := $(filter-out $(USER_VARS) PYTHON% VENV KIT_% KERAS_% TF_% XLA_% KAGGLE_% CUDA_% CI,$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))
ifneq ($(UNKNOWN_VARS),)
$(error $(shell python3 -c 'import difflib, sys; known = sys.argv[2].split(); \
  said = [f"{v} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(v.upper(), known, 1, 0.5)) else v for v in sys.argv[1].split()]; \
  print("unknown variable " + ", ".join(said) + "; `make help` lists them")' '$(UNKNOWN_VARS)' '$(USER_VARS)'))
endif
$(foreach name,$(USER_VARS),$(eval override $(name) := $$(value $(name))))
$(foreach name,$(USER_VARS),$(eval export KIT_MAKE_$(name) := $$($(name))))
q = "$$KIT_MAKE_$(1)"

# BACKEND=jax (or torch) runs every target on that Keras backend: TensorFlow is the default,
# JAX the one on machines without TensorFlow (the GPU machines) and often faster there
ifneq ($(BACKEND),)
export KERAS_BACKEND := $(BACKEND)
endif

VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# exec: the recipe's shell becomes the kit, so make's child is the verb itself; `kill` of make (which
# passes SIGTERM to its child) or Ctrl-C ends it, and nothing is left running (make dashboard).
# @: not echoed, since the line shows "$KIT_MAKE_COMP" rather than what the user typed
KIT    := @exec $(PYTHON) -m kit
split_words = $(PYTHON) -c 'import os, shlex, sys; \
          os.execv(sys.executable, [sys.executable, *sys.argv[1:], *shlex.split(os.environ["KIT_MAKE_$(1)"])])'
ARGS   := --comp $(call q,COMP) $(if $(PRESET),--preset $(call q,PRESET)) $(if $(DATA),--data $(call q,DATA)) \
          $(if $(PARAMS),--params $(call q,PARAMS)) \
          $(if $(SET)$(MODEL),--set $(if $(MODEL),"train.model=$$KIT_MAKE_MODEL") $(if $(SET),$(call q,SET)))

.DEFAULT_GOAL := help
.PHONY: help setup new run test data audit train runs predict models config lint bench clean compare learning-curve reproduce kaggle-image kaggle-image-venv python313

help: ## list the targets
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-15s %s\n", $$1, $$2}'
	@echo "  variables: COMP (name or alias, default fashion-mnist) PRESET SET=\"key=value ...\" DATA=<folder> PARAMS=best RUN=<run> MODEL=<model> MODELS=\"a b\""
	@echo "  FILE=<csv> (submit, reproduce); kaggle: MSG=\"...\" FORCE=1 (submit), GPU=1 INTERNET=1 (kernel); new: METRIC=<name> FORCE=1"
	@echo "  BACKEND=jax runs any target on JAX instead of TensorFlow (the default)"

setup: $(STAMP) ## create .venv and install the kit (fast when nothing changed)

# PYTHONWARNINGS: setuptools' editable-install banner (a UserWarning from its build) is not the
# user's concern; pip's own errors still print
$(STAMP): pyproject.toml
	@test -x $(PYTHON) || { echo "setup: creating $(VENV) with $$(python3 --version)"; python3 -m venv $(VENV); }
	@echo "setup: installing the kit and its dependencies into $(VENV) (TensorFlow, JAX, KerasHub, scikit-learn, Optuna: \
	~2 GB, a few minutes on a fresh machine, seconds when nothing changed)"
	@$(PYTHON) -m pip install --quiet --upgrade pip
	@PYTHONWARNINGS=ignore::UserWarning $(PYTHON) -m pip install --quiet -e '.[jax,dev,hub]'
	@touch $(STAMP) && echo "setup: done ($$($(PYTHON) -c 'import importlib.metadata as m; print("keras", m.version("keras"), "· tensorflow", m.version("tensorflow"))'))"

new: setup ## set up COMP from its files (DATA=<folder>, else data/COMP or a download); METRIC=, SET=, FORCE=1
	$(KIT) new --comp $(call q,COMP) $(if $(DATA),--data $(call q,DATA)) $(if $(METRIC),--metric $(call q,METRIC)) \
	  $(if $(SET),--set $(call q,SET)) $(if $(FORCE),--force)

run: setup ## the whole pipeline on COMP (default: the embedded Fashion-MNIST sample)
	$(KIT) run $(ARGS)

# two processes (pytest-xdist), a test file each: the suite is mostly TensorFlow start-ups and small
# fits, which leave a second core idle; PYTEST_ARGS="-n 0" runs it in one process
test: setup ## run the test suite
	exec $(call split_words,PYTEST_ARGS) -m pytest -n 2 --dist loadfile

# Kaggle's image as a venv of its own: exactly the versions of .ci/kaggle-image.txt, none of the
# kit's extras; cached per content of that file, so a machine installs it once (~1.5 GB, a few
# minutes). tests/kaggle/test_kaggle_image.py runs built kernels there (skipped without it, except
# under CI=true, where .ci/run builds it first). KAGGLE_IMAGE_PYTHON picks the interpreter.
KAGGLE_IMAGE_PINS   := .ci/kaggle-image.txt
# Kaggle runs Python 3.12: pyenv's 3.12 where the machine has one (these machines do), else
# Debian's python3.12, else python3 (said when the venv is built). The cache key names both the
# pins and the interpreter, so a venv built by another Python is never reused.
KAGGLE_IMAGE_PYTHON ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12)),python3)
KAGGLE_IMAGE_VENV   := $(HOME)/.cache/kit/kaggle-image-$(shell { cat $(KAGGLE_IMAGE_PINS); echo "$(KAGGLE_IMAGE_PYTHON)"; } | sha256sum | cut -c1-12)

kaggle-image: ## a venv with Kaggle's image versions (.ci/kaggle-image.txt), cached in ~/.cache/kit
	@if [ -f "$(KAGGLE_IMAGE_VENV)/.installed" ]; then echo "kaggle image venv: $(KAGGLE_IMAGE_VENV) (cached)"; else \
	  echo "kaggle image venv: installing .ci/kaggle-image.txt with $$($(KAGGLE_IMAGE_PYTHON) --version) (~1.5 GB, a few minutes)" && \
	  rm -rf "$(KAGGLE_IMAGE_VENV)" && $(KAGGLE_IMAGE_PYTHON) -m venv "$(KAGGLE_IMAGE_VENV)" && \
	  "$(KAGGLE_IMAGE_VENV)/bin/python" -m pip install --quiet --no-warn-script-location -r $(KAGGLE_IMAGE_PINS) && \
	  touch "$(KAGGLE_IMAGE_VENV)/.installed" && echo "kaggle image venv: $(KAGGLE_IMAGE_VENV)"; fi

kaggle-image-venv:  # where kaggle-image puts the venv (tests/kaggle/test_kaggle_image.py asks)
	@echo "$(KAGGLE_IMAGE_VENV)"

python313: ## the fast tests under CPython 3.13, built once from Debian's source into ~/.cache/kit (not in CI)
	.ci/python313

data: setup ## check (and with a Kaggle account, download) the competition's files
	$(KIT) data $(ARGS)

audit: setup ## duplicates, blank images, class balance chart, examples per class
	$(KIT) audit $(ARGS)

train: setup ## train COMP's model; RESUME=1 continues the newest interrupted run
	$(KIT) train $(ARGS) $(if $(RESUME),--resume $(if $(RUN),$(call q,RUN)))

runs: setup ## COMP's runs: status (complete, running, interrupted, failed), model, data, score
	$(KIT) runs $(ARGS)

# STORAGE goes by the environment (KIT_STORAGE), never a command line: a database password
# there would be visible to every user of the machine (ps)
ifneq ($(STORAGE),)
export KIT_STORAGE := $(STORAGE)
endif
STUDY_ARGS := $(if $(STUDY),--study $(call q,STUDY))
TUNE_ARGS  := $(STUDY_ARGS) $(if $(N_TRIALS),--n-trials $(call q,N_TRIALS)) $(if $(TIMEOUT),--timeout $(call q,TIMEOUT)) \
              $(if $(WORKERS),--workers $(call q,WORKERS)) $(if $(SAMPLER),--sampler $(call q,SAMPLER)) \
              $(if $(PRUNER),--pruner $(call q,PRUNER))
.PHONY: tune dashboard

tune: setup ## Optuna study on COMP's space.py (N_TRIALS TIMEOUT STORAGE WORKERS STUDY SAMPLER PRUNER)
	$(KIT) tune $(ARGS) $(TUNE_ARGS)

dashboard: setup ## optuna-dashboard on COMP's study at http://127.0.0.1:8080 (STORAGE=, STUDY=, PORT=)
	$(KIT) dashboard $(ARGS) $(STUDY_ARGS) --port $(call q,PORT)

predict: setup ## predict the test set (TTA, ensemble RUN="a b") and write a submission
	$(KIT) predict $(ARGS) $(if $(RUN),--runs $(call q,RUN))

compare: setup ## train MODELS="a b" (default: compare.models) on one split; table + chart
	$(KIT) compare $(ARGS) $(if $(MODELS),--models $(call q,MODELS))

learning-curve: setup ## MODEL on growing fractions (FRACTIONS="0.1 0.5 1"); train vs validation
	$(KIT) learning-curve $(ARGS) $(if $(FRACTIONS),--fractions $(call q,FRACTIONS))

reproduce: setup ## re-create FILE (a submission) from its record alone, as a new file; compare the labels
	$(KIT) reproduce $(ARGS) $(if $(FILE),--file $(call q,FILE))

models: setup ## list the registered models
	$(KIT) models $(ARGS)

config: setup ## print COMP's resolved settings (PRESET, PARAMS, SET, DATA applied), as TOML
	$(KIT) config $(ARGS)

.PHONY: submit leaderboard kernel kernel-push kernel-status kernel-output
submit: setup ## validate, upload once and poll FILE (default: newest); MSG="..."; FORCE=1 resubmits
	$(KIT) submit $(ARGS) $(if $(FILE),--file $(call q,FILE)) $(if $(MSG),--message $(call q,MSG)) $(if $(FORCE),--force)

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

# PART=finetune runs that part alone, with BENCH_ARGS (bench/finetune.py --help)
bench: setup ## benchmarks (never part of test): input pipeline; throughput vs ImageDataGenerator; TTA; recipes vs fastai; fine-tuning vs timm
ifeq ($(PART),)
	$(PYTHON) bench/input_pipeline.py
	$(call split_words,BENCH_ARGS) bench/bench.py
	$(PYTHON) bench/recipe.py
	$(PYTHON) bench/finetune.py
else ifeq ($(PART),finetune)
	$(call split_words,BENCH_ARGS) bench/finetune.py
else
	@echo "PART="$(call q,PART)": the part that runs alone is finetune (or leave PART empty for all)" >&2; exit 2
endif

lint: setup ## ruff: lint rules and formatting (`ruff format` fixes the layout)
	$(VENV)/bin/ruff check kit tests competitions bench
	$(VENV)/bin/ruff format --check kit tests competitions bench

clean: ## remove artifacts/, build/ (keeps submissions/ and data/; under KIT_WORKDIR when set)
	rm -rf "$${KIT_WORKDIR:-.}/artifacts" "$${KIT_WORKDIR:-.}/build"
