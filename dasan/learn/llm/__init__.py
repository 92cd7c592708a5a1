"""Training the served language model on the agency's documents (``dasan train llm``).

:mod:`.data` builds governed training text (structure kept, instruction pairs made without a
model, PII masked, level cap, evaluation material kept out), :mod:`.model` loads the base model
(the bundled GGUF through a cached float copy, or an HF folder on a GPU machine), :mod:`.trainer`
trains a LoRA (transformers + peft; resumable, capped, seeded), :mod:`.convert` writes the
llama.cpp adapter GGUF, :mod:`.roundtrip` checks the served GGUF against the trained model and
:mod:`.pipeline` publishes the versioned adapter for ``dasan models list|use|rollback``.
Everything that needs torch is imported lazily: the default install has no training extra."""
