# genkit: `make demo` and `make test` set themselves up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= $(abspath ../shared/data)
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench bench-quantize bench-pixel figures checkpoints palettes clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

# The main job on the embedded default: 16 Pokemon drawn pixel by pixel by the shipped PixelCNN,
# and test sprites (never trained on) half hidden and completed.
demo: install
	@mkdir -p out
	$(BIN)/gk-sample pixelcnn -n 16 --seed 0 -o out/demo.png
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[1-4]0MS.png --crop 20 --palette $(DATA)/pokemon/colormap.txt \
		| $(BIN)/gk-complete pixelcnn --keep 0.5 -k 3 -o out/demo-complete.png
	@echo "wrote out/demo.png (samples) and out/demo-complete.png (original | masked | 3 completions)"

bench: bench-quantize bench-pixel

bench-quantize: install
	$(BIN)/python bench/quantize.py --data $(DATA)/pokemon/sprites

# Needs the shipped checkpoints; trains the course's 1-D LSTM baseline into runs/ if it is missing.
bench-pixel: install
	$(BIN)/python bench/pixel.py

# Reproduces palettes/pokemon-167.txt with gk-quantize itself (one global palette, seed 0).
palettes: install
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites --crop 20 --colors 167 --seed 0 \
		--save-palette palettes/pokemon-167.txt -f npz > /dev/null

# Shipped checkpoints: each trained by gk-train, then copied with a model card (genkit.modelcard).
PIXELRNN_TRAIN := gk-train pixelrnn --dataset pokemon --flip --epochs 40 --batch-size 32 --seed 0 -o runs/pokemon-pixelrnn
PIXELCNN_TRAIN := gk-train pixelcnn --dataset pokemon --flip --epochs 80 --batch-size 32 --lr 0.004 --seed 0 -o runs/pokemon-pixelcnn

checkpoints: palettes checkpoints/pokemon-pixelrnn.keras checkpoints/pokemon-pixelcnn.keras

checkpoints/pokemon-pixelrnn.keras: | install
	$(BIN)/$(PIXELRNN_TRAIN)
	$(BIN)/python -m genkit.modelcard runs/pokemon-pixelrnn $@ --command "$(PIXELRNN_TRAIN)"

checkpoints/pokemon-pixelcnn.keras: | install
	$(BIN)/$(PIXELCNN_TRAIN)
	$(BIN)/python -m genkit.modelcard runs/pokemon-pixelcnn $@ --command "$(PIXELCNN_TRAIN)"

figures: install
	@mkdir -p figures
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[0-4]*.png --crop 20 --palette pokemon-167 --scale 4 -o figures/pokemon-167.png
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[0-4]*.png --crop 20 --palette $(DATA)/pokemon/colormap.txt --scale 4 -o figures/course-167.png
	for t in 0 0.7 1.0; do \
		$(BIN)/gk-sample pixelcnn -n 16 --temperature $$t --seed 0 -o figures/pixelcnn-t$$t.png; \
		$(BIN)/gk-sample pixelrnn -n 16 --temperature $$t --seed 0 -o figures/pixelrnn-t$$t.png; done
	for keep in 0.5 0.25; do \
		$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[1-8]0MS.png --crop 20 --palette $(DATA)/pokemon/colormap.txt \
			| $(BIN)/gk-complete pixelcnn --keep $$keep -k 3 --seed 0 -o figures/complete-$$keep.png; done

clean:
	rm -rf $(VENV) out *.egg-info
