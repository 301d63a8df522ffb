# genkit: `make demo` and `make test` set themselves up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= $(abspath ../shared/data)
STAMP  := $(VENV)/.installed

.PHONY: install test test-fast fuzz demo bench bench-quantize bench-pixel bench-sampling bench-levers bench-poems bench-startup bench-train bench-gpu bench-vae bench-gan bench-sentence bench-masked train-2workers figures figures-sentence figures-masked checkpoints palettes clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Every test (CI runs this); test-fast skips those marked slow (several processes, or over ~20 s).
test: install
	$(BIN)/python -m pytest -q --durations=15

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

# The seeded fuzz test at size: thousands of mutated PNG/JPEG/GIF/BMP/WebP/NPZ inputs in-process, and
# mutated .keras files loaded in a child process (a crash there cannot take the run down).
FUZZ_CASES ?= 5000
FUZZ_KERAS_CASES ?= 200
FUZZ_SEED ?= 0
fuzz: install
	FUZZ_CASES=$(FUZZ_CASES) FUZZ_KERAS_CASES=$(FUZZ_KERAS_CASES) FUZZ_SEED=$(FUZZ_SEED) $(BIN)/python -m pytest -q tests/test_fuzz.py

# The main job on the embedded default: 16 Pokemon drawn pixel by pixel by the shipped PixelCNN,
# and test sprites (never trained on) half hidden and completed.
demo: install
	@mkdir -p out
	$(BIN)/gk-sample pixelcnn -n 16 --seed 0 -o out/demo.png
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[1-4]0MS.png --crop 20 --palette $(DATA)/pokemon/colormap.txt \
		| $(BIN)/gk-complete pixelcnn --keep 0.5 -k 3 -o out/demo-complete.png
	@echo "wrote out/demo.png (samples) and out/demo-complete.png (original | masked | 3 completions)"

bench: bench-quantize bench-pixel bench-sampling bench-levers bench-poems bench-startup bench-train bench-vae bench-gan bench-sentence bench-masked

bench-quantize: install
	$(BIN)/python bench/quantize.py --data $(DATA)/pokemon/sprites

# A command's fixed cost: gk-sample / gk-complete wall time over `python -c "import tensorflow"`, interleaved,
# best of 3, and its import / load / first call / work (bench/results/startup.md and startup.json).
bench-startup: install
	$(BIN)/python bench/startup.py

# Needs the shipped checkpoints; trains the course's 1-D LSTM baseline into runs/ if it is missing.
bench-pixel: install
	$(BIN)/python bench/pixel.py

# Only the sampling rows of bench-pixel (shipped checkpoints, no training): bench/results/sampling.md.
bench-sampling: install
	$(BIN)/python bench/sampling.py

# Tang poem models as gk-interp uses them: reconstruction of test lines, NLL, the path between pairs of
# lines: bench/results/poems.md. POEM_MODELS: checkpoints, run folders or zoo names.
POEM_MODELS ?= tang-sentence-vae
bench-poems: install runs/sonnet-lstm-lm/model.keras runs/tang-lstm-lm-full/model.keras
	$(BIN)/python bench/poems.py $(POEM_MODELS) --lm-nll $$($(BIN)/gk-eval runs/tang-lstm-lm-full --dataset tang --json | $(BIN)/python -c "import json, sys; print(json.load(sys.stdin)['nll_nats'])")
	$(BIN)/python bench/poems.py --dataset sonnets --lines 0 --lm-nll $$($(BIN)/gk-eval runs/sonnet-lstm-lm --dataset sonnets --json | $(BIN)/python -c "import json, sys; print(json.load(sys.stdin)['nll_nats'])")

# Test NLL of the shipped pixel models averaged with PixelCNNs trained like the shipped one but for 50 epochs
# from other seeds (trained into runs/ when missing, about 20 min each): temperature, per-pixel mixture
# (weights by EM), mirror, every choice made on the val split: bench/results/pixel-levers.md.
LEVER_SEEDS ?= 1 2 3
LEVER_RUNS := $(foreach s,$(LEVER_SEEDS),runs/pixelcnn-seed$(s)/model.keras)
runs/pixelcnn-seed%/model.keras: | install
	$(BIN)/gk-train pixelcnn --dataset pokemon --flip --epochs 50 --batch-size 32 --lr 0.004 --seed $* -o runs/pixelcnn-seed$*
bench-levers: install $(LEVER_RUNS)
	$(BIN)/python bench/levers.py pokemon-pixelcnn pokemon-pixelrnn $(LEVER_RUNS)

# Needs checkpoints/mnist-vae.keras and pokemon-vae.keras. IWAE with k = 1000 on all 10,000 MNIST test
# digits, issue 18's protocol (10 minutes here with the likelihood part alone; VAE_BENCH="-k 5000 --images 1000" for a larger k on a subset).
VAE_BENCH ?= -k 1000
bench-vae: install
	$(BIN)/python bench/vae.py $(VAE_BENCH)

# GAN vs VAE vs real digits, judged by the shipped classifier (squared Fréchet distance of its
# features, label entropy): bench/results/gan.md and gan.json. Needs checkpoints/mnist-gan.keras and
# mnist-classifier.keras; the VAE row uses checkpoints/mnist-vae.keras (else runs/mnist-vae/model.keras).
# The Pokemon table compares the PixelCNN, VAE and GAN; GAN_BENCH=--masked adds the masked model (over 30 min).
# The masked family against the shipped PixelCNN: completion of three mask kinds, sprites/s against the
# number of steps, the test NLL bound: bench/results/masked.md and masked.json.
bench-masked: install
	$(BIN)/python bench/masked.py

GAN_BENCH ?=
bench-gan: install
	$(BIN)/python bench/gan.py $(GAN_BENCH)

# The sentence VAE against a plain LSTM language model (the same family, latent=0) on PTB's test set:
# bench/results/sentence.md and sentence.json. Trains what is missing (runs/ptb-lstm-lm, and the
# shipped checkpoints/ptb-sentence-vae.keras); the VAE's NLL is the IWAE bound with SENTENCE_K samples.
SENTENCE_K ?= 10
bench-sentence: install checkpoints/ptb-sentence-vae.keras runs/ptb-lstm-lm/model.keras
	$(BIN)/python bench/sentence.py --lm runs/ptb-lstm-lm --vae checkpoints/ptb-sentence-vae.keras \
		--vae-metrics runs/ptb-sentence-vae/metrics.json -k $(SENTENCE_K)

# Steps/s of every model family on this CPU, with and without the input pipeline's prefetch
# (a few dozen steps a row, about 3 minutes): bench/results/train.md and train.json.
bench-train: install
	$(BIN)/python bench/train.py

# Steps/s on 1, 2, ... N visible GPUs under MirroredStrategy (bench/results/train-gpu.md); with no
# GPU visible it says so and exits 0.
bench-gpu: install
	$(BIN)/python bench/train.py --gpus

# A look at multi-worker training on one machine: WORKERS gk-train processes under
# MultiWorkerMirroredStrategy, each with its TF_CONFIG on free ports of 127.0.0.1; worker 0 (the
# chief) writes the run folder (runs/2workers-TIMESTAMP), the others write nothing.
WORKERS ?= 2
WORKER_EPOCHS ?= 2
train-2workers: install
	$(BIN)/python scripts/launch_workers.py --workers $(WORKERS) -- $(BIN)/gk-train pixelcnn --dataset pokemon \
		--epochs $(WORKER_EPOCHS) --strategy multi-worker -o runs/2workers-$$(date +%Y%m%d-%H%M%S)

# Reproduces palettes/pokemon-167.txt with gk-quantize itself (one global palette, seed 0).
palettes: install
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites --crop 20 --colors 167 --seed 0 \
		--save-palette palettes/pokemon-167.txt -f npz > /dev/null

# Shipped checkpoints: each trained by gk-train, then copied with a model card (scripts/modelcard.py).
PIXELRNN_TRAIN := gk-train pixelrnn --dataset pokemon --flip --epochs 40 --batch-size 32 --seed 0 -o runs/pokemon-pixelrnn
PIXELCNN_TRAIN := gk-train pixelcnn --dataset pokemon --flip --epochs 80 --batch-size 32 --lr 0.004 --seed 0 -o runs/pokemon-pixelcnn
# The mixture's members: the two shipped pixel models and the three PixelCNNs of other seeds (LEVER_RUNS).
POKEMON_MIXTURE_MEMBERS := checkpoints/pokemon-pixelcnn.keras,checkpoints/pokemon-pixelrnn.keras,runs/pixelcnn-seed1,runs/pixelcnn-seed2,runs/pixelcnn-seed3
POKEMON_MIXTURE_TRAIN := gk-train mixture --dataset pokemon --set members=$(POKEMON_MIXTURE_MEMBERS) --epochs 40 --batch-size 32 --lr 0.05 --seed 0 -o runs/pokemon-mixture
MASKED_TRAIN := gk-train masked --dataset pokemon --flip --epochs 45 --batch-size 32 --lr 0.002 --seed 0 -o runs/pokemon-masked

POKEMON_VAE_TRAIN := gk-train vae --dataset pokemon --flip --epochs 150 --batch-size 32 --seed 0 -o runs/pokemon-vae
# The MNIST VAE has a pixel head and free bits (issue 18); its second leg goes on at a third of the learning rate.
MNIST_VAE_TRAIN := gk-train vae --dataset mnist --set arch=mlp --set hidden=512 --set latent=50 --set pixel_head=32 --set head_code=2 --set kl_floor=20 --epochs 28 --batch-size 100 --seed 0 -o runs/mnist-vae
MNIST_VAE_TUNE := gk-train vae --resume --lr 0.0003 --epochs 34 -o runs/mnist-vae
# A conditional GAN (classes=10): 11 epochs at lr 2e-4, then one at 1e-4.
MNIST_GAN_TRAIN := gk-train gan --dataset mnist --epochs 11 --batch-size 64 --lr 0.0002 --seed 0 --set channels=64 --set classes=10 -o runs/mnist-gan
MNIST_GAN_TUNE := gk-train gan --dataset mnist --resume --lr 0.0001 --epochs 12 -o runs/mnist-gan
POKEMON_GAN_TRAIN := gk-train gan --dataset pokemon --flip --epochs 360 --batch-size 32 --lr 0.0002 --seed 0 --set channels=64 --set augment=color,translation,cutout -o runs/pokemon-gan
MNIST_CLASSIFIER_TRAIN := gk-train classifier --dataset mnist --epochs 3 --batch-size 128 --lr 0.001 --seed 0 -o runs/mnist-classifier
MNIST_CVAE_TRAIN := gk-train cvae --dataset mnist --set arch=mlp --set hidden=512 --latent 10 --epochs 30 --batch-size 100 --seed 0 -o runs/mnist-cvae

# Sentence models (sentence-vae; latent=0 is the LSTM LM baseline). PTB, Tang and their LM baselines train with a
# sampled softmax over 1024 words (the Tang VAE's last 4 epochs and its LM's last 2 with the full one), the sonnet VAE
# and its LM with the full one (validation and every score use the full softmax); KL annealing scaled to the short runs.
# PTB: 10 epochs at lr 0.002, then 6 more at 0.0005 (a resume with another --lr). The VAE and the LM baseline
# are trained the same way: LSTMs of 512 on an embedding of 256, dropout 0.4 (the LM has no code: latent=0).
PTB_VAE_SETTINGS := --batch-size 64 --seed 0 --set embed=256 --set hidden=512 --set sampled=1024 --set dropout=0.4
PTB_VAE_TRAIN := gk-train sentence-vae --dataset ptb --epochs 10 --lr 0.002 $(PTB_VAE_SETTINGS) --set latent=16 --set kl_k=0.01 --set kl_x0=300 --set kl_floor=4 -o runs/ptb-sentence-vae
PTB_VAE_FINISH := gk-train sentence-vae --dataset ptb --resume --epochs 16 --lr 0.0005 --batch-size 64 --seed 0 -o runs/ptb-sentence-vae
PTB_LM_TRAIN := gk-train sentence-vae --dataset ptb --epochs 10 --lr 0.002 $(PTB_VAE_SETTINGS) --set latent=0 -o runs/ptb-lstm-lm
PTB_LM_FINISH := gk-train sentence-vae --dataset ptb --resume --epochs 16 --lr 0.0005 --batch-size 64 --seed 0 -o runs/ptb-lstm-lm
# Sonnets: a code of 64 with 10 free nats a token, a bidirectional encoder, LSTMs of 448 on an embedding of 128, the
# full softmax (sampled=0: the sampled one's reconstruction lags far behind); 10 epochs at lr 0.002, 6 at 0.0005, 4 at
# 0.0002. (12 a token spells back as many words for 19 more nats of KL.) Then 4 epochs at 0.0002 from those weights
# (--init) with the budget cut to 7 a token, no minimum, into runs/sonnet-sentence-vae-cut.
SONNET_VAE_TRAIN := gk-train sentence-vae --dataset sonnets --epochs 10 --batch-size 64 --lr 0.002 --seed 0 --set vocab=10000 --set sampled=0 --set word_dropout=0.25 --set latent=64 --set embed=128 --set hidden=448 --set bidirectional=true --set kl_x0=600 --set kl_floor=50 --set kl_floor_token=10 -o runs/sonnet-sentence-vae
SONNET_VAE_FINISH := gk-train sentence-vae --dataset sonnets --resume --epochs 16 --lr 0.0005 -o runs/sonnet-sentence-vae
SONNET_VAE_POLISH := gk-train sentence-vae --dataset sonnets --resume --epochs 20 --lr 0.0002 -o runs/sonnet-sentence-vae
SONNET_VAE_CUT := gk-train sentence-vae --dataset sonnets --init runs/sonnet-sentence-vae --epochs 4 --lr 0.0002 --batch-size 64 --seed 0 --set kl_anneal=none --set kl_floor=0 --set kl_floor_token=7 -o runs/sonnet-sentence-vae-cut
SONNET_LM_TRAIN := gk-train sentence-vae --dataset sonnets --epochs 20 --batch-size 64 --lr 0.002 --seed 0 --set vocab=10000 --set sampled=0 --set word_dropout=0 --set latent=0 --set embed=128 --set hidden=448 -o runs/sonnet-lstm-lm
# Tang: a code of 64 with 12 free nats a token (at least 45), a bidirectional encoder; 5 epochs at lr 0.002, 3 at
# 0.0005, 2 at 0.0002 (the shipped run's first leg was asked for 7 epochs and stopped after the 5th with SIGTERM),
# all with a sampled softmax; then 4 epochs at 0.0002 with the full one and the budget cut to 6 free nats a token
# with no minimum, from those weights (--init: a fresh optimizer, the KL weight 1 throughout; run as 2 epochs and
# a --resume to 4), into runs/tang-sentence-vae-full.
TANG_SETTINGS := --batch-size 128 --seed 0 --set embed=128 --set vocab=6000 --set sampled=1024
TANG_VAE_TRAIN := gk-train sentence-vae --dataset tang --epochs 5 --lr 0.002 $(TANG_SETTINGS) --set word_dropout=0.25 --set latent=64 --set bidirectional=true --set kl_x0=1200 --set kl_floor=45 --set kl_floor_token=12 -o runs/tang-sentence-vae
TANG_VAE_FINISH := gk-train sentence-vae --dataset tang --resume --epochs 8 --lr 0.0005 -o runs/tang-sentence-vae
TANG_VAE_POLISH := gk-train sentence-vae --dataset tang --resume --epochs 10 --lr 0.0002 -o runs/tang-sentence-vae
TANG_VAE_FULL := gk-train sentence-vae --dataset tang --init runs/tang-sentence-vae --epochs 2 --lr 0.0002 --batch-size 128 --seed 0 --set sampled=0 --set kl_anneal=none --set kl_floor=0 --set kl_floor_token=6 -o runs/tang-sentence-vae-full
TANG_VAE_FULL_MORE := gk-train sentence-vae --dataset tang --resume --epochs 4 --lr 0.0002 -o runs/tang-sentence-vae-full
# The Tang LM baseline: the VAE's sizes and schedule (10 epochs with the sampled softmax, then 2 with the full one; the
# VAE has 4 there; the LM's validation NLL was lowest after its 7th epoch), no code.
TANG_LM_TRAIN := gk-train sentence-vae --dataset tang --epochs 5 --lr 0.002 $(TANG_SETTINGS) --set word_dropout=0 --set latent=0 -o runs/tang-lstm-lm
TANG_LM_FINISH := gk-train sentence-vae --dataset tang --resume --epochs 8 --lr 0.0005 -o runs/tang-lstm-lm
TANG_LM_POLISH := gk-train sentence-vae --dataset tang --resume --epochs 10 --lr 0.0002 -o runs/tang-lstm-lm
TANG_LM_FULL := gk-train sentence-vae --dataset tang --init runs/tang-lstm-lm --epochs 2 --lr 0.0002 --batch-size 128 --seed 0 --set sampled=0 -o runs/tang-lstm-lm-full

checkpoints: palettes checkpoints/pokemon-pixelrnn.keras checkpoints/pokemon-pixelcnn.keras checkpoints/pokemon-mixture.keras checkpoints/pokemon-masked.keras \
	checkpoints/pokemon-vae.keras checkpoints/mnist-vae.keras checkpoints/mnist-cvae.keras \
	checkpoints/mnist-classifier.keras checkpoints/mnist-gan.keras checkpoints/pokemon-gan.keras \
	checkpoints/ptb-sentence-vae.keras checkpoints/sonnet-sentence-vae.keras checkpoints/tang-sentence-vae.keras

checkpoints/ptb-sentence-vae.keras: | install
	$(BIN)/$(PTB_VAE_TRAIN)
	$(BIN)/$(PTB_VAE_FINISH)
	$(BIN)/python scripts/modelcard.py runs/ptb-sentence-vae $@ --command "$(PTB_VAE_TRAIN); $(PTB_VAE_FINISH)" --dataset ptb -k 10 --half

runs/ptb-lstm-lm/model.keras: | install
	$(BIN)/$(PTB_LM_TRAIN)
	$(BIN)/$(PTB_LM_FINISH)

checkpoints/sonnet-sentence-vae.keras: | install
	$(BIN)/$(SONNET_VAE_TRAIN)
	$(BIN)/$(SONNET_VAE_FINISH)
	$(BIN)/$(SONNET_VAE_POLISH)
	$(BIN)/$(SONNET_VAE_CUT)
	$(BIN)/python scripts/modelcard.py runs/sonnet-sentence-vae-cut $@ --command "$(SONNET_VAE_TRAIN); $(SONNET_VAE_FINISH); $(SONNET_VAE_POLISH); $(SONNET_VAE_CUT)" --dataset sonnets -k 10 --half

checkpoints/tang-sentence-vae.keras: | install
	$(BIN)/$(TANG_VAE_TRAIN)
	$(BIN)/$(TANG_VAE_FINISH)
	$(BIN)/$(TANG_VAE_POLISH)
	$(BIN)/$(TANG_VAE_FULL)
	$(BIN)/$(TANG_VAE_FULL_MORE)
	$(BIN)/python scripts/modelcard.py runs/tang-sentence-vae-full $@ --command "$(TANG_VAE_TRAIN); $(TANG_VAE_FINISH); $(TANG_VAE_POLISH); $(TANG_VAE_FULL); $(TANG_VAE_FULL_MORE)" --dataset tang -k 10 --half

# The plain LSTM LM the sonnet VAEs' likelihood is compared with: the shipped model's sizes (embedding 128, LSTMs of
# 448) and full softmax, no code, 20 epochs (the best is the 6th).
runs/sonnet-lstm-lm/model.keras: | install
	$(BIN)/$(SONNET_LM_TRAIN)

# The plain LSTM LM the Tang VAE's likelihood is compared with (README): same sizes and epochs, no code.
runs/tang-lstm-lm-full/model.keras: | install
	$(BIN)/$(TANG_LM_TRAIN)
	$(BIN)/$(TANG_LM_FINISH)
	$(BIN)/$(TANG_LM_POLISH)
	$(BIN)/$(TANG_LM_FULL)

checkpoints/pokemon-pixelrnn.keras: | install
	$(BIN)/$(PIXELRNN_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/pokemon-pixelrnn $@ --command "$(PIXELRNN_TRAIN)"

checkpoints/pokemon-pixelcnn.keras: | install
	$(BIN)/$(PIXELCNN_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/pokemon-pixelcnn $@ --command "$(PIXELCNN_TRAIN)"

# Its members first: the shipped pixel models and the three seeds (about 20 min each); then the mixing
# weights alone, on the val split (7 min here: 40 epochs of the 79 val sprites through all five members).
checkpoints/pokemon-mixture.keras: checkpoints/pokemon-pixelcnn.keras checkpoints/pokemon-pixelrnn.keras $(LEVER_RUNS) | install
	$(BIN)/$(POKEMON_MIXTURE_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/pokemon-mixture $@ --command "$(POKEMON_MIXTURE_TRAIN)" --half

checkpoints/pokemon-masked.keras: | install
	$(BIN)/$(MASKED_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/pokemon-masked $@ --command "$(MASKED_TRAIN)" -k 128

checkpoints/pokemon-vae.keras: | install
	$(BIN)/$(POKEMON_VAE_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/pokemon-vae $@ --command "$(POKEMON_VAE_TRAIN)" -k 1000

checkpoints/mnist-vae.keras: | install
	$(BIN)/$(MNIST_VAE_TRAIN)
	$(BIN)/$(MNIST_VAE_TUNE)
	$(BIN)/python scripts/modelcard.py runs/mnist-vae $@ --command "$(MNIST_VAE_TRAIN); $(MNIST_VAE_TUNE)" --dataset mnist -k 1000 --half

checkpoints/mnist-cvae.keras: | install
	$(BIN)/$(MNIST_CVAE_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/mnist-cvae $@ --command "$(MNIST_CVAE_TRAIN)" --dataset mnist -k 100

checkpoints/mnist-classifier.keras: | install
	$(BIN)/$(MNIST_CLASSIFIER_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/mnist-classifier $@ --command "$(MNIST_CLASSIFIER_TRAIN)" --dataset mnist

# The GAN's card measures its realness with the classifier, so that comes first.
checkpoints/mnist-gan.keras: checkpoints/mnist-classifier.keras | install
	$(BIN)/$(MNIST_GAN_TRAIN)
	$(BIN)/$(MNIST_GAN_TUNE)
	$(BIN)/python scripts/modelcard.py runs/mnist-gan $@ --command "$(MNIST_GAN_TRAIN); $(MNIST_GAN_TUNE)" --dataset mnist

checkpoints/pokemon-gan.keras: | install
	$(BIN)/$(POKEMON_GAN_TRAIN)
	$(BIN)/python scripts/modelcard.py runs/pokemon-gan $@ --command "$(POKEMON_GAN_TRAIN)" --dataset pokemon

# The VAE figures: latent grid, interpolation strips, the moon figure, CVAE styles.
figures-vae: install
	@mkdir -p figures out
	$(BIN)/gk-sample vae --grid 3,7 --range -3:3 --steps 10 --scale 3 -o figures/vae-grid.png
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/025MS.png $(DATA)/pokemon/sprites/007MS.png --crop 20 \
		--palette $(DATA)/pokemon/colormap.txt -f npz | $(BIN)/gk-interp vae - --steps 8 --scale 3 -o figures/vae-interp.png
	$(BIN)/python -c "from genkit import datasets; from genkit.io import write_stream; \
		s = datasets.load('mnist', split='test'); write_stream(s.select([3, 2]), 'out/digits-ab.npz', 'npz'); \
		write_stream(s.select([0, 1, 2, 3, 4, 7, 8, 11]), 'out/digits-style.npz', 'npz')"
	$(BIN)/gk-interp checkpoints/mnist-vae.keras out/digits-ab.npz --steps 10 --scale 3 -o figures/mnist-interp.png
	$(BIN)/gk-sample checkpoints/mnist-vae.keras -n 64 --seed 0 --scale 2 -o figures/mnist-vae-samples.png
	$(BIN)/python scripts/moon.py -o figures/moon.png
	$(BIN)/gk-interp checkpoints/mnist-cvae.keras --style out/digits-style.npz --labels 0-9 --scale 2 -o figures/cvae-style.png

# Interpolations between two lines of poetry in each language and two PTB sentences (greedy decoding of
# evenly spaced codes; first and last lines: the decodings of A and B) -> figures/interpolations.txt.
# Tang: famous pairs typed in traditional and in simplified script (the output follows A's script, else
# B's), five- and seven-character lines.
TANG_PAIRS := "床前明月光 春眠不覺曉" "床前明月光 春眠不觉晓" "白日依山盡 黃河入海流" "白日依山尽 黄河入海流" \
	"兩個黃鸝鳴翠柳 一行白鷺上青天" "两个黄鹂鸣翠柳 一行白鹭上青天"
figures-sentence: install
	@mkdir -p figures
	( echo '# gk-interp "shall i compare thee to a summer'\''s day?" "and summer'\''s lease hath all too short a date" --steps 8'; \
	  $(BIN)/gk-interp "shall i compare thee to a summer's day?" "and summer's lease hath all too short a date" --steps 8; echo; \
	  for pair in $(TANG_PAIRS); do echo "# gk-interp $$pair --steps 8"; $(BIN)/gk-interp $$pair --steps 8; echo; done; \
	  echo '# gk-interp ptb-sentence-vae "the company said it expects to report a loss" "stock prices fell sharply in new york trading" --steps 8'; \
	  $(BIN)/gk-interp ptb-sentence-vae "the company said it expects to report a loss" "stock prices fell sharply in new york trading" --steps 8; \
	) > figures/interpolations.txt
	cat figures/interpolations.txt

# The masked family beside the PixelCNN: samples, and completions of test sprites 10, 20, ..., 80 with
# the bottom half, the top half and a random half hidden (original | masked | 3 completions).
MASKED_STEPS ?= 32
figures-masked: install
	@mkdir -p figures out
	$(BIN)/python -c "import numpy as np; from PIL import Image; m = np.zeros((20, 20), np.uint8); m[10:] = 255; Image.fromarray(m).save('out/keep-bottom.png')"
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[1-8]0MS.png --crop 20 --palette $(DATA)/pokemon/colormap.txt -f npz -o out/eight.npz
	for m in pixelcnn masked; do \
		$(BIN)/gk-complete $$m out/eight.npz --keep 0.5 -k 3 --seed 0 -o figures/$$m-bottom-hidden.png; \
		$(BIN)/gk-complete $$m out/eight.npz --mask out/keep-bottom.png -k 3 --seed 0 -o figures/$$m-top-hidden.png; \
		$(BIN)/gk-complete $$m out/eight.npz --keep-random 0.5 -k 3 --seed 0 -o figures/$$m-random-hidden.png; done
	$(BIN)/gk-sample masked -n 16 --steps $(MASKED_STEPS) --seed 0 -o figures/masked-samples.png

figures: install figures-vae figures-sentence figures-masked
	@mkdir -p figures
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[0-4]*.png --crop 20 --palette pokemon-167 --scale 4 -o figures/pokemon-167.png
	$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[0-4]*.png --crop 20 --palette $(DATA)/pokemon/colormap.txt --scale 4 -o figures/course-167.png
	for t in 0 0.7 1.0; do \
		$(BIN)/gk-sample pixelcnn -n 16 --temperature $$t --seed 0 -o figures/pixelcnn-t$$t.png; \
		$(BIN)/gk-sample pixelrnn -n 16 --temperature $$t --seed 0 -o figures/pixelrnn-t$$t.png; done
	for keep in 0.5 0.25; do \
		$(BIN)/gk-quantize $(DATA)/pokemon/sprites/0[1-8]0MS.png --crop 20 --palette $(DATA)/pokemon/colormap.txt \
			| $(BIN)/gk-complete pixelcnn --keep $$keep -k 3 --seed 0 -o figures/complete-$$keep.png; done
	$(BIN)/gk-sample gan -n 60 --cols 10 --seed 0 --scale 2 -o figures/gan-samples.png
	$(BIN)/gk-interp gan --seed-a 1 --seed-b 2 --steps 8 --scale 3 -o figures/gan-walk.png
	$(BIN)/gk-sample pokemon-gan -n 16 --seed 0 -o figures/pokemon-gan-samples.png

clean:
	rm -rf $(VENV) out *.egg-info
