"""What several stages share, beneath them all (docs/layout.md): the model registry's networks
and checkpoints (`models`), MNIST as the stages read it (`mnist`), training (`optimize`, `fit`),
error counts (`evaluation`), the minimal-distortion attack (`attack`, `search`, `solver`, the
exact QP minimum `exact`), distortion, amplification and noise (`distortion`), and the
adversarial sets the rules write and read (`sets`). Stage packages import this package, never
each other."""
