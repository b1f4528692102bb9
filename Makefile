# niftydrive developer commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
TF ?= cpu
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(TF)
DEMO_DIR ?= demo_output

.PHONY: install demo demo-toy demo-segmentation test benchmark clean

install: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(TF),test]"
	touch $(STAMP)

demo: demo-toy demo-segmentation

demo-toy: install
	$(BIN)/net_run train -c configs/toy.ini --model_dir $(CURDIR)/$(DEMO_DIR)/toy
	$(BIN)/net_run inference -c configs/toy.ini --model_dir $(CURDIR)/$(DEMO_DIR)/toy
	@echo "toy GAN: checkpoints in $(DEMO_DIR)/toy/models, TensorBoard logs in $(DEMO_DIR)/toy/logs, generated vectors in $(DEMO_DIR)/toy/inference"

demo-segmentation: install
	@echo "(segmentation demo not wired yet)"

test: install
	$(BIN)/python -m pytest -q tests

benchmark: install
	$(BIN)/python benchmarks/driver_overhead.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) *.egg-info .pytest_cache
