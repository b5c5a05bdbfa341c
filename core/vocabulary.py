"""The lab's one vocabulary: how a model kind, an optimizer and a data set are named to
people. Every page, table and label reads its names here (no TensorFlow, no imports)."""

# The model kinds (``core.config.KINDS``) as a learner reads them in tables and labels.
MODEL_NAMES = {
    "dense_64_64": "Dense 64-64",
    "dense_500_300": "Dense 500-300",
    "cnn": "CNN",
    "quick_cnn": "Quick CNN",
    "denoising_autoencoder": "Dense denoising autoencoder",
    "conv_denoiser": "Convolutional denoising autoencoder",
    "vae": "VAE",
    "cvae": "Conditional VAE",
    "custom": "Your own network",
}
# The same kinds where one is chosen (the Train page's model list): each says what it is for.
MODEL_CHOICES = {
    "dense_64_64": "Dense 64-64 (the course's small net)",
    "dense_500_300": "Dense 500-300 with L2 weight decay",
    "quick_cnn": "Quick CNN (trains in seconds: the one for a class)",
    "cnn": "Convolutional network (CNN)",
    "custom": "Your own network",
    "denoising_autoencoder": "Denoising autoencoder 784-128-96-128-784",
    "conv_denoiser": "Convolutional denoising autoencoder",
    "vae": "Variational autoencoder (latent space)",
    "cvae": "Conditional VAE (digits to order)",
}
OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam"}
# The data sets (``core.data.registry.DATASETS``): with what they hold, and alone (table cells).
DATASET_TITLES = {"mnist": "MNIST digits", "fashion_mnist": "Fashion-MNIST clothes", "cifar10": "CIFAR-10 photos"}
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
