# niftydrive developer commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
TF ?= cpu
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(TF)
DEMO_DIR ?= demo_output

.PHONY: install demo demo-toy demo-segmentation demo-gan demo-registration demo-fine-tuning \
	demo-classification demo-autoencoder \
	demo-all test \
	benchmark clean

install: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(TF),test]"
	touch $(STAMP)

demo: demo-toy demo-segmentation

demo-toy: install
	$(BIN)/net_run train -c configs/toy.ini --model_dir $(CURDIR)/$(DEMO_DIR)/toy \
		--overwrite_checkpoints True
	$(BIN)/net_run inference -c configs/toy.ini --model_dir $(CURDIR)/$(DEMO_DIR)/toy \
		--save_seg_dir $(CURDIR)/$(DEMO_DIR)/toy/generated
	@echo "toy GAN: checkpoints in $(DEMO_DIR)/toy/models, TensorBoard logs in $(DEMO_DIR)/toy/logs,"
	@echo "  generated vectors (CSV) in $(DEMO_DIR)/toy/generated"

SEG_DATA := demo_data/segmentation
SEG_MODEL := $(CURDIR)/$(DEMO_DIR)/segmentation

demo-segmentation: install
	$(BIN)/net_segment_demo_data --output $(SEG_DATA)
	$(BIN)/net_run train -c configs/segmentation_demo.ini --model_dir $(SEG_MODEL) \
		--overwrite_checkpoints True
	$(BIN)/net_run inference -c configs/segmentation_demo.ini --model_dir $(SEG_MODEL)
	$(BIN)/net_run evaluation -c configs/segmentation_demo.ini --model_dir $(SEG_MODEL)
	@echo "segmentation: data in $(SEG_DATA), checkpoints in $(DEMO_DIR)/segmentation/models,"
	@echo "  TensorBoard logs in $(DEMO_DIR)/segmentation/logs, segmentations and inferred.csv in"
	@echo "  $(DEMO_DIR)/segmentation/inference, metrics per subject in $(DEMO_DIR)/segmentation/evaluation/evaluation.csv"

FT_MODEL := $(CURDIR)/$(DEMO_DIR)/fine_tuning

# fine-tunes the segmentation demo's model: frozen input layer, warm-up and
# cosine schedule, best model by validation, early stopping
demo-fine-tuning: demo-segmentation
	$(BIN)/net_run train -c configs/fine_tuning_demo.ini --model_dir $(FT_MODEL) \
		--restore_from $(SEG_MODEL)/models --dataset_split_file $(SEG_MODEL)/dataset_split.csv \
		--overwrite_checkpoints True
	$(BIN)/net_run inference -c configs/fine_tuning_demo.ini --model_dir $(FT_MODEL) \
		--dataset_split_file $(SEG_MODEL)/dataset_split.csv
	$(BIN)/net_run evaluation -c configs/fine_tuning_demo.ini --model_dir $(FT_MODEL) \
		--dataset_split_file $(SEG_MODEL)/dataset_split.csv
	@echo "fine-tuning: best model in $(DEMO_DIR)/fine_tuning/models/best, its segmentations in"
	@echo "  $(DEMO_DIR)/fine_tuning/inference, metrics in $(DEMO_DIR)/fine_tuning/evaluation/evaluation.csv"

REG_DATA := demo_data/registration
REG_MODEL := $(CURDIR)/$(DEMO_DIR)/registration

demo-registration: install
	$(BIN)/net_segment_demo_data --kind registration --size 24 --subjects 12 --output $(REG_DATA)
	$(BIN)/net_run train -c configs/demo_registration.ini --model_dir $(REG_MODEL) \
		--overwrite_checkpoints True
	$(BIN)/net_run inference -c configs/demo_registration.ini --model_dir $(REG_MODEL)
	@echo "registration: pairs in $(REG_DATA), checkpoints in $(DEMO_DIR)/registration/models,"
	@echo "  TensorBoard logs in $(DEMO_DIR)/registration/logs, warped moving images and labels"
	@echo "  (fixed images' geometry) and inferred.csv in $(DEMO_DIR)/registration/inference"

GAN_DATA := demo_data/gan
GAN_MODEL := $(CURDIR)/$(DEMO_DIR)/gan

# the conditional GAN on synthetic 2-D images (under a minute on a CPU)
demo-gan: install
	$(BIN)/net_segment_demo_data --kind gan --size 32 --output $(GAN_DATA)
	$(BIN)/net_gan train -c configs/demo_gan.ini --model_dir $(GAN_MODEL) \
		--overwrite_checkpoints True
	$(BIN)/net_gan inference -c configs/demo_gan.ini --model_dir $(GAN_MODEL) \
		--save_seg_dir $(GAN_MODEL)/generated
	@echo "GAN: data in $(GAN_DATA), checkpoints in $(DEMO_DIR)/gan/models, TensorBoard logs"
	@echo "  (lossG, lossD) in $(DEMO_DIR)/gan/logs, generated images (n_interpolations per"
	@echo "  conditioning map, listed in inferred.csv) in $(DEMO_DIR)/gan/generated"

CLS_DATA := demo_data/classification
CLS_MODEL := $(CURDIR)/$(DEMO_DIR)/classification

# a ResNet telling 2-D images with a disc from those without (about a minute on a CPU)
demo-classification: install
	$(BIN)/net_segment_demo_data --kind classification --size 16 --subjects 16 \
		--output $(CLS_DATA)
	$(BIN)/net_classify train -c configs/demo_classification.ini --model_dir $(CLS_MODEL) \
		--overwrite_checkpoints True
	$(BIN)/net_classify inference -c configs/demo_classification.ini \
		--model_dir $(CLS_MODEL) --save_seg_dir $(CLS_MODEL)/inference
	$(BIN)/net_classify evaluation -c configs/demo_classification.ini \
		--model_dir $(CLS_MODEL) --save_seg_dir $(CLS_MODEL)/inference \
		--save_csv_dir $(CLS_MODEL)/evaluation
	@echo "classification: data in $(CLS_DATA), checkpoints in $(DEMO_DIR)/classification/models,"
	@echo "  TensorBoard logs (loss, accuracy) in $(DEMO_DIR)/classification/logs, one class per"
	@echo "  held-out subject in $(DEMO_DIR)/classification/inference/_class.csv, accuracy,"
	@echo "  confusion matrix and ROC AUC in $(DEMO_DIR)/classification/evaluation/evaluation.csv"

AE_DATA := demo_data/gan
AE_MODEL := $(CURDIR)/$(DEMO_DIR)/autoencoder

# the variational autoencoder on 2-D Gaussian bumps, then encode, encode-decode, sample
demo-autoencoder: install
	$(BIN)/net_segment_demo_data --kind gan --size 32 --output $(AE_DATA)
	$(BIN)/net_autoencoder train -c configs/demo_autoencoder.ini --model_dir $(AE_MODEL) \
		--overwrite_checkpoints True
	for type in encode encode-decode sample; do \
		$(BIN)/net_autoencoder inference -c configs/demo_autoencoder.ini \
			--model_dir $(AE_MODEL) --inference_type $$type \
			--save_seg_dir $(AE_MODEL)/$$type || exit 1; \
	done
	@echo "autoencoder: data in $(AE_DATA), checkpoints in $(DEMO_DIR)/autoencoder/models,"
	@echo "  TensorBoard logs in $(DEMO_DIR)/autoencoder/logs; codes in .../autoencoder/encode,"
	@echo "  reconstructions in .../encode-decode, random samples in .../sample"

# one small synthetic-data demo per application
demo-all: demo \
	demo-gan \
	demo-registration \
	demo-classification \
	demo-autoencoder \
	demo-fine-tuning

# one worker per core (at most 4: each imports TensorFlow); a test module runs in one
# worker, so its module fixtures are built once
PYTEST_WORKERS ?= -n auto --maxprocesses 4 --dist loadfile

test: install
	$(BIN)/python -m pytest -q $(PYTEST_WORKERS) tests

benchmark: install
	$(BIN)/python benchmarks/driver_overhead.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) *.egg-info .pytest_cache
