"""The words a first-year student meets in the lab, one plain sentence each.

Pages show them through ``pages.shared.explain`` in a "What is …?" expander where a term
first appears. ``source`` names where a quoted number or a method comes from; it is empty
for a plain definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.targets import HINTON_ACCURACY
from core.vocabulary import MODEL_NAMES


@dataclass(frozen=True)
class Term:
    """One glossary entry: ``name`` as shown in the expander's title, ``sentence`` one
    plain sentence, ``source`` a paper, dataset or course experiment (may be empty)."""

    name: str
    sentence: str
    source: str = ""


_MNIST_TABLE = "LeCun, Cortes and Burges, The MNIST database of handwritten digits (yann.lecun.com/exdb/mnist)"

GLOSSARY: dict[str, Term] = {
    "softmax": Term(
        "“% sure”",
        "The network's last layer (a softmax) turns its ten scores into ten probabilities that add "
        "up to 100%; “% sure” is the largest of them, which is how much the network believes its "
        "answer, not how often it is right.",
        "Bridle (1990), Probabilistic interpretation of feedforward classification network outputs"),
    "mnist": Term(
        "MNIST",
        "MNIST is a collection of 70,000 handwritten digits, each a 28 × 28 grey picture with its "
        "true label, split into 60,000 for training and 10,000 for testing.",
        _MNIST_TABLE),
    "confusion_matrix": Term(
        "a confusion matrix",
        "A confusion matrix counts, for every true digit (a row) and every answer (a column), how "
        "many test digits got that answer, so the diagonal holds the digits read right and every "
        "other cell one kind of mistake.",
        "Stehman (1997), Selecting and interpreting measures of thematic classification accuracy"),
    "per_class_accuracy": Term(
        "per-digit accuracy",
        "The per-digit accuracy is the share of one digit's test images the model reads right, the "
        "diagonal cell divided by its row, which shows a digit that is hard even when the overall "
        "accuracy is high."),
    "dense": Term(
        "a dense network",
        "A dense network connects every input pixel to every neuron of the next layer, and so on "
        "layer by layer; “64-64” or “500-300” are the numbers of neurons in its hidden layers."),
    "cnn": Term(
        "a convolutional network (CNN)",
        "A convolutional network slides small learned 3 × 3 filters over the picture to find "
        "strokes and curves wherever they are, then combines what they found into a digit.",
        "LeCun, Bottou, Bengio and Haffner (1998), Gradient-based learning applied to document recognition"),
    "quick_cnn": Term(
        "the quick CNN",
        "The quick CNN is a narrow convolutional network, two layers of filters and one of 256 "
        "neurons, that reads 99% of the test digits right after a quarter of a minute of training, "
        "so a class can try many settings.",
        "the shape of tuomaso/train_mnist_fast (99.04% mean test accuracy after one epoch, 30 seeds)"),
    "quick_look": Term(
        "a quick look",
        "A quick look trains on the first 10,000 of the 55,000 training digits, in about a fifth of "
        "the time, which is enough to compare settings but scores a little lower than the full run."),
    "label_smoothing": Term(
        "label smoothing",
        "Label smoothing trains a network towards 91% on the right answer and 1% on each other "
        "digit instead of 100% and 0%, which keeps it from becoming overconfident and here helped "
        "the CNN learn faster.",
        "Szegedy et al. (2016), Rethinking the Inception architecture for computer vision"),
    "bfloat16": Term(
        "bfloat16",
        "Bfloat16 is a short way of writing numbers (8 significant bits instead of 24) that this "
        "server's processor multiplies faster, so the lab's CNNs learn in it while "
        "their weights are kept, and their answers computed, in full precision.",
        "Kalamkar et al. (2019), A study of bfloat16 for deep learning training"),
    "parameters": Term(
        "a parameter",
        "The parameters are the numbers a network adjusts while it learns (the weight of every "
        "connection and one bias per neuron); more of them can learn more, and also memorise more."),
    "output_shape": Term(
        "an output shape",
        "The output shape is what one layer hands to the next for one digit: 784 is the 28 × 28 "
        "pixels laid out in one row, and 26 × 26 × 32 means 32 filtered pictures of 26 × 26 pixels."),
    "epoch": Term(
        "an epoch",
        "One epoch is one pass over all 55,000 training digits, so 10 epochs show the network "
        "every training digit ten times."),
    "batch": Term(
        "a batch",
        "A batch is the handful of digits (64, say) the network looks at before it adjusts its "
        "weights once; smaller batches give more, but noisier, steps per epoch."),
    "learning_rate": Term(
        "the learning rate",
        "The learning rate is the size of each adjustment step: too small and learning crawls, too "
        "large and the accuracy jumps about or collapses to chance (10%)."),
    "optimizer": Term(
        "an optimizer",
        "The optimizer is the rule that turns the errors on a batch into weight changes: SGD steps "
        "straight downhill on the loss, while Adam also gives each weight its own step size.",
        "Kingma and Ba (2015), Adam: a method for stochastic optimization"),
    "momentum": Term(
        "momentum",
        "Momentum makes SGD keep part of its previous step, like a ball rolling downhill, so it "
        "speeds along gentle slopes and zigzags less in narrow valleys.",
        "Polyak (1964); Sutskever, Martens, Dahl and Hinton (2013), On the importance of "
        "initialization and momentum in deep learning"),
    "lr_schedule": Term(
        "a learning-rate schedule",
        "A schedule changes the learning rate during training: “constant” keeps it, while “cosine” "
        "raises it over the first 5% of the steps and then lowers it smoothly to zero by the last one.",
        "Loshchilov and Hutter (2017), SGDR: stochastic gradient descent with warm restarts"),
    "seed": Term(
        "a seed",
        "The seed fixes the random starting weights and the order of the digits, so the same seed "
        "repeats a run exactly and different seeds show how much of a result is luck."),
    "validation": Term(
        "validation",
        "The validation digits are 5,000 training digits held back from learning and used for every "
        "choice (which settings, which weight decay), so that the test digits stay unseen until "
        "the final score."),
    "test_accuracy": Term(
        "test accuracy",
        "Test accuracy is the share of the 10,000 test digits, never used in training or in any "
        "choice, that the network labels correctly, measured once after training."),
    "loss": Term(
        "the loss",
        "The loss is the number training pushes down, a measure of how wrong the network is: for a "
        "classifier it is small when the right digit gets a high probability (cross-entropy), for an "
        "autoencoder when its output matches the wanted picture pixel by pixel."),
    "l2": Term(
        "L2 weight decay",
        "L2 weight decay adds the factor times the sum of all squared weights to the loss, so "
        "training keeps every weight small unless a large one really helps, which can make a network "
        "do better on digits it has never seen.",
        "Krogh and Hertz (1992), A simple weight decay can improve generalization"),
    "distorted_digits": Term(
        "a distorted digit",
        "Distorted digits are training digits randomly shifted, rotated, scaled, slanted and made "
        "thinner or thicker, new for every batch, so the network meets more kinds of handwriting "
        "than the originals (data augmentation).",
        "Simard, Steinkraus and Platt (2003), Best practices for convolutional neural networks "
        "applied to visual document analysis"),
    "error_bars": Term(
        "an error bar",
        "An error bar reaches one standard deviation above and below the mean over the seeds, about "
        "how far one run lands from the average, so means whose bars overlap cannot be told apart "
        "with confidence."),
    "hinton": Term(
        f"Hinton's {HINTON_ACCURACY:.2%}",
        f"Hinton's {HINTON_ACCURACY:.2%} is the test accuracy (1.53% errors) listed for Geoffrey "
        "Hinton's 784-500-300-10 dense network with weight decay, trained on plain digits, which "
        "is the mark this page measures against.",
        f"{_MNIST_TABLE}: “2-layer NN, 500+300 HU, softmax, cross entropy, weight decay”"),
    "autoencoder": Term(
        "an autoencoder",
        "An autoencoder is a network trained to give back its own input through a narrow middle "
        "layer, so it has to learn what digits look like; it names no digit, so it has a loss "
        "but no accuracy."),
    "denoising_autoencoder": Term(
        "a denoising autoencoder",
        "A denoising autoencoder is shown a noisy digit and trained to give back the clean one, so "
        "it learns to remove the kind of noise it was trained on.",
        "Vincent, Larochelle, Bengio and Manzagol (2008), Extracting and composing robust features "
        "with denoising autoencoders"),
    "salt_and_pepper": Term(
        "salt-and-pepper noise",
        "Salt-and-pepper noise replaces each pixel, with probability equal to the noise level, by "
        "pure white (salt) or pure black (pepper), so at noise 0.4 about 40% of the pixels are lost."),
    "median_filter": Term(
        "a median filter",
        "A 3 × 3 median filter replaces every pixel by the middle value of itself and its eight "
        "neighbours, which wipes out isolated white and black dots without any learning."),
    "psnr": Term(
        "PSNR",
        "PSNR (peak signal-to-noise ratio) says in decibels how close a picture is to the clean "
        "digit: higher is closer, and every 10 dB more means ten times less squared error per pixel.",
        "PSNR = 10 log10(1 / mean squared error), for pixels between 0 and 1"),
    "vae": Term(
        "a variational autoencoder (VAE)",
        "A variational autoencoder squeezes each digit into a few numbers, its code, and is trained "
        "so that codes drawn at random also decode into digit-like pictures, which lets it draw "
        "new digits.",
        "Kingma and Welling (2014), Auto-encoding variational Bayes"),
    "latent_code": Term(
        "a code",
        "A digit's code, its point in the latent space, is the short list of numbers the encoder "
        "squeezes the digit into and the decoder turns back into a picture."),
    "prior": Term(
        "the prior",
        "The prior is the bell-shaped spread the VAE's codes are trained to follow, a standard "
        "normal distribution N(0, I) in which each number is usually between −2 and 2, so codes "
        "drawn from it decode into typical digits.",
        "Kingma and Welling (2014), Auto-encoding variational Bayes"),
    "sigma": Term(
        "σ (sigma)",
        "σ is a standard deviation, the typical size of a random change: noise with σ = 0.3 moves "
        "each number of a code by about 0.3 up or down, and the prior's own σ is 1."),
    "cvae": Term(
        "a conditional VAE",
        "A conditional VAE is a VAE that is also told each digit's label, so its code only has to "
        "hold the style (slant, width, stroke) and its decoder can be asked for any digit you choose.",
        "Sohn, Lee and Yan (2015), Learning structured output representation using deep conditional "
        "generative models"),
    "feature_map": Term(
        "a feature map",
        "A feature map is the picture one filter of a layer makes from its input, bright where the "
        "filter found its pattern, so 24 × 24 × 32 means 32 such pictures of 24 × 24 pixels."),
    "filter": Term(
        "a filter",
        "A filter is a small square of learned weights, 5 × 5 in the CNN's first layer, that is slid "
        "over the picture and gives a large value wherever the picture under it looks like it."),
    "pooling": Term(
        "max pooling",
        "Max pooling keeps only the largest value of each 2 × 2 square of a feature map, which halves "
        "its width and height and lets a stroke move a pixel without changing the result."),
    "occlusion": Term(
        "an occlusion map",
        "An occlusion map blanks a small square of the digit at every position in turn and colours "
        "each pixel by how much the network's probability for its answer drops when that pixel is hidden.",
        "Zeiler and Fergus (2014), Visualizing and understanding convolutional networks"),
    "generalization_gap": Term(
        "the gap between training and validation accuracy",
        "The gap is the training accuracy minus the validation accuracy at the last epoch: a network "
        "that learns its training digits by heart (overfitting) scores higher on them than on digits "
        "it has never seen, so the gap grows."),
    "dropout": Term(
        "dropout",
        "Dropout switches off a random share of a layer's units (30% in the lab's CNN) at every "
        "training step, so the network cannot rely on any single one, and uses them all when it "
        "reads a digit.",
        "Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov (2014), Dropout: a simple way "
        "to prevent neural networks from overfitting"),
    "integrated_gradients": Term(
        "integrated gradients",
        "Integrated gradients fade the digit in from a black picture and add up, pixel by pixel, how "
        "much each small brightening raises the probability of the answer, so the pixels' shares add "
        "up to the whole change.",
        "Sundararajan, Taly and Yan (2017), Axiomatic attribution for deep networks"),
    "fashion_mnist": Term(
        "Fashion-MNIST",
        "Fashion-MNIST is 70,000 small grey pictures of clothes in ten classes, with exactly the "
        "shapes and splits of MNIST, so the same network can be tried on a harder task.",
        "Xiao, Rasul and Vollgraf (2017), Fashion-MNIST: a novel image dataset for benchmarking "
        "machine learning algorithms"),
    "cifar10": Term(
        "CIFAR-10",
        "CIFAR-10 is 60,000 small colour photos of 32 × 32 pixels in ten classes such as cats, ships "
        "and trucks, much harder than digits because the objects vary in pose, colour and background.",
        "Krizhevsky (2009), Learning multiple layers of features from tiny images"),
    "batch_normalization": Term(
        "batch normalization",
        "Batch normalization rescales each unit's outputs over a batch to a mean of 0 and a spread "
        "of 1 and then lets the network learn its own scale, which lets deeper networks train faster.",
        "Ioffe and Szegedy (2015), Batch normalization: accelerating deep network training by "
        "reducing internal covariate shift"),
    "mirroring": Term(
        "mirrored and shifted training images",
        "Mirrored and shifted training images are flipped left to right and moved up to two pixels at "
        "random, afresh for every picture of every batch, so a network learns that a shoe pointing left "
        "or sitting lower is still a shoe."),
    "layer_list": Term(
        "your own network",
        "Your own network is a list of layers you choose, from the picture to the ten answers, and "
        "the lab shows the size of each layer's output and the number of weights before anything trains."),
    "distribution_shift": Term(
        "distribution shift",
        "A distribution shift is a change between the data a network learned from and the data it meets "
        "later, such as digits drawn on a pad instead of written on paper, after which its test accuracy "
        "no longer holds.",
        "Quiñonero-Candela, Sugiyama, Schwaighofer and Lawrence (2009), Dataset Shift in Machine Learning"),
    "fine_tuning": Term(
        "fine-tuning",
        "Fine-tuning lets a trained network go on learning for a few epochs, at a small learning rate, "
        "from new examples, so it adapts to them while keeping most of what it knew; mixing some of the "
        "old examples in keeps it from forgetting them.",
        "Robins (1995), Catastrophic forgetting, rehearsal and pseudorehearsal"),
    "transfer_learning": Term(
        "transfer learning",
        "Transfer learning reuses the layers a network learned on one task, frozen, as a feature extractor "
        "for a new task, so only a small new last layer learns, from a few examples, in seconds.",
        "Yosinski, Clune, Bengio and Lipson (2014), How transferable are features in deep neural networks?"),
    "adversarial": Term(
        "an adversarial example",
        "An adversarial example is a picture changed on purpose, by a tiny step for every pixel in the "
        "direction that most raises the network's loss, so that a person sees the same digit but the network "
        "answers another.",
        "Goodfellow, Shlens and Szegedy (2015), Explaining and harnessing adversarial examples"),
    "held_out_students": Term(
        "held-out students",
        "Held-out students are students whose drawings the network never learns from, kept aside to test "
        "it, so the test measures how it reads new people's handwriting and not handwriting it has seen."),
}


def tip(key: str) -> str:
    """The term's sentence and source as one string, for a widget's or a column's ``help=``
    tooltip where the term first appears beside a control rather than in the text."""
    term = GLOSSARY[key]
    return term.sentence + (f" Source: {term.source}." if term.source else "")



# Words of generated labels (the benchmark's rows) and what a learner reads instead; the
# longer ones first, so "cvae" is not half-replaced as "vae".
_PLAIN_WORDS = [
    ("l2 = 0 control", "no weight decay"),
    ("replicates", "seeds"),
    ("conv denoiser", "convolutional denoiser"),
    ("p95", "95th percentile"),
    ("full rebuild, wall time of one python -m core train --all --force", "rebuilding every model from scratch"),
    *sorted(((kind, name) for kind, name in MODEL_NAMES.items()), key=lambda pair: -len(pair[0])),
]


def plain(text: str) -> str:
    """``text`` with developer words (model kinds, config keys, commands) replaced by the
    words the pages use, e.g. "dense_500_300, ... of 3 replicates" -> "Dense 500-300, ...
    of 3 seeds"; other text is left as it is."""
    for word, replacement in _PLAIN_WORDS:
        text = re.sub(rf"\b{re.escape(word)}\b", replacement, text)
    return text
