"""Backbones: the Ollama transport and one module per model family."""
