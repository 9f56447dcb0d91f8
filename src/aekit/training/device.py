"""Which device a run uses."""
import torch


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is available, else 'cpu'; 'cuda' without one is an error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but no CUDA device is available; use device='cpu' or 'auto'")
    if device != "cpu" and not str(device).startswith("cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    return str(device)
