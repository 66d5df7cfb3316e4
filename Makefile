# Magnesium & vitamine D FAQ assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RASA := $(BIN)/rasa
MODEL := models/faq.tar.gz
RASA_URL ?= http://127.0.0.1:5005
STACK_URL ?= http://127.0.0.1:$(or $(STACK_PORT),8088)
TRAIN_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
                $(shell find server/nlu -name '*.py' 2>/dev/null)

# Quiet, offline Rasa: no telemetry, fewer TensorFlow and SQLAlchemy notices.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1
# The Rasa server's token for the action server (endpoints.yml); generated once
# into var/secrets/ (private) unless the environment sets it.
export FAQ_ACTION_TOKEN ?= $(shell scripts/secret.sh action-token)

.PHONY: help install train run shell actions test test-unit test-stories test-e2e agreement \
        validate eval bench lint format lock clean purge answer-book grounding lookup web \
        test-browser tune insights review bench-insights stack stack-down test-stack chaos

help: ## show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: ## create .venv (Python 3.10) and install the pinned dependencies
	@scripts/install.sh

$(MODEL): $(TRAIN_INPUTS) | install
	@$(PY) scripts/spacy_pipeline.py explain
	RASA_SPACY_MODEL=$$($(PY) scripts/spacy_pipeline.py which) \
	  $(RASA) train --fixed-model-name faq --out models
	@touch $@

train: install $(MODEL) ## train the model (only when data, domain or config changed)

run: train ## start action server + Rasa server (REST, socket.io) on 127.0.0.1
	@scripts/run.sh

actions: install ## start only the action server (127.0.0.1:5055, token required)
	$(PY) -m actions

shell: train ## chat in the terminal (starts the action server in the background)
	@scripts/run.sh shell

validate: install ## check the content file and the Rasa training data
	$(PY) -m faq.content
	RASA_SPACY_MODEL=$$($(PY) scripts/spacy_pipeline.py which) \
	  $(RASA) data validate

test-unit: install ## pytest: content loader, actions, channels (no servers)
	$(BIN)/pytest -m "not e2e and not stack"

test-stories: train ## conversation tests in tests/test_stories.yml
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out reports/stories --no-plot

test-e2e: train ## real action server + Rasa server over REST
	$(BIN)/pytest -m "e2e and not browser"

test-browser: train ## the website widget in headless Chromium against the real stack
	$(BIN)/pytest -m browser

web: install ## serve the demo page with the chat widget on http://127.0.0.1:8080 (Rasa: make run)
	@scripts/web.sh

tune: install ## choose the fallback thresholds on 5-fold CV of data/nlu, five seeds; TUNE_ARGS=--write sets them
	$(PY) -m tools.tune_thresholds $(TUNE_ARGS)

stack: train ## production shape on loopback: PostgreSQL, Redis, 2 Rasa + 2 action servers, nginx (:8088)
	@scripts/stack.sh up

stack-down: ## stop everything make stack started
	@scripts/stack.sh down

# make test-stack: the stack with test settings (the harness drives many
# conversations from one address; a short reply timeout for the slow-server test).
TEST_STACK_ENV := FAQ_RATE_PER_IP=300 FAQ_RATE_PER_CONVERSATION=20 FAQ_REPLY_TIMEOUT=4 \
                  STACK_NGINX_RATE=100r/s STACK_NGINX_BURST=400

test-stack: train ## the e2e suite through nginx against make stack (started, then stopped)
	$(TEST_STACK_ENV) scripts/stack.sh up
	$(TEST_STACK_ENV) FAQ_STACK_URL=$(STACK_URL) $(BIN)/pytest -m "stack or (e2e and not browser)" \
	  tests/test_e2e.py tests/test_security_e2e.py tests/test_stack.py \
	  tests/test_replicas.py tests/test_deploy.py; \
	  status=$$?; scripts/stack.sh down; exit $$status

chaos: train ## faults through nginx (replica, action server, PostgreSQL, Redis killed; a flood): lost per fault
	$(PY) -m tools.chaos $(CHAOS_ARGS)

test: validate test-unit test-stories test-e2e test-browser test-stack ## everything CI runs

eval: train ## dev set, both blind sets (aggregates), 5-fold CV: bot vs. baseline (reports/eval.md)
	$(PY) -m tools.evaluate

agreement: install ## two readings of the development conversations: how often they agree, and the bot with each (after make eval)
	$(PY) -m tools.agreement

bench: train ## latency, throughput, memory vs. baseline (reports/bench.md); STACK=1 adds make stack; BENCH_ARGS=--train times training
	$(PY) -m tools.bench $(if $(STACK),--stack) $(BENCH_ARGS)

grounding: install ## review page: each answer sentence beside its article basis (reports/grounding/grounding.html)
	$(PY) -m staff.grounding
insights: install ## report of what visitors ask and what fails (reports/insights); INSIGHTS_ARGS="--van 2026-11-01 --tot 2026-11-30"
	$(PY) -m staff.insights $(INSIGHTS_ARGS)

review: install ## review queue in a local page; assigned messages go to data/nlu/review.yml (REVIEW_ARGS="--dagen 7")
	$(PY) -m staff.review $(REVIEW_ARGS)

bench-insights: install ## make insights on 100,000 generated conversations: time and peak memory
	$(PY) -m tools.bench --insights $(BENCH_ARGS)

answer-book: install ## answer book for customer service (CSV + HTML) in reports/answer-book
	$(PY) -m staff.answer_book

lookup: install ## top 3 topics for a customer's question: make lookup Q="vraag" (needs make run, FAQ_STAFF_TOKEN)
	@$(PY) -m staff.lookup --url $(RASA_URL) -- "$$Q"

lint: install ## ruff check + ruff format --check (black style, 88 columns)
	$(BIN)/ruff check actions faq server staff tools scripts tests
	$(BIN)/ruff format --check actions faq server staff tools scripts tests

format: install ## apply ruff format and fixes
	$(BIN)/ruff format actions faq server staff tools scripts tests
	$(BIN)/ruff check --fix actions faq server staff tools scripts tests

lock: ## re-pin every transitive dependency into constraints.txt
	$(BIN)/pip freeze --exclude-editable > constraints.txt

purge: install ## delete conversations older than FAQ_RETENTION_DAYS (default 90) from the tracker store
	$(PY) -m server.purge

clean: ## remove trained models, reports and local run-time state (var/: database, logs, secrets)
	rm -rf models/*.tar.gz reports/* results var
