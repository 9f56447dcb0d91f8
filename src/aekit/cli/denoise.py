"""``aekit denoise MODEL INPUT -o OUT``: denoise images (.npy or a folder of PNGs); PSNR/SSIM against clean ones."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..exceptions import DataError
from ._common import PLOT_SUFFIXES, add_model_argument, check_output_path, load_model, written_or_removed


def register(sub) -> None:
    p = sub.add_parser(
        "denoise", help="denoise images (.npy or a PNG folder); PSNR and SSIM against clean images",
        description="Pass noisy images through a (denoising) autoencoder. INPUT is a .npy array of images "
                    "(n, height, width) or a folder of PNG images of one size; OUT is a .npy file or a folder "
                    "for PNG images (named as the input's). With --clean (or --add-noise) the mean PSNR and SSIM "
                    "of the noisy and of the denoised images are printed.")
    add_model_argument(p)
    p.add_argument("input", metavar="INPUT", help="noisy images: .npy file or folder of PNG images")
    p.add_argument("-o", "--output", required=True, type=Path, help="denoised images: .npy file or a folder")
    p.add_argument("--clean", default=None, help="the clean images, in the same order (.npy or PNG folder)")
    p.add_argument("--add-noise", type=float, default=None, metavar="STD",
                   help="treat INPUT as clean and add Gaussian noise of this standard deviation first (a demo)")
    p.add_argument("--seed", type=int, default=0, help="seed of --add-noise (default 0)")
    p.add_argument("--grid", type=Path, default=None, help="also draw noisy / denoised / clean rows (PNG)")
    p.add_argument("-n", type=int, default=10, help="images per row of --grid (default 10)")
    p.add_argument("--force", action="store_true", help="replace an existing output (.npy, PNG files in the folder, --grid)")
    p.set_defaults(func=run)


def read_image_stack(source, model) -> tuple[np.ndarray, list | None]:
    """``(images (n, height, width), file names or None)`` from a .npy file or a PNG folder."""
    from ..data.images import list_images, read_images
    from ..datasets import load_dataset

    path = Path(source)
    if path.is_dir():
        return read_images(path), [p.name for p in list_images(path)]
    dataset = load_dataset(source)
    shape = dataset.image_shape
    if shape is None:  # flat rows: square images of the model's size
        side = math.isqrt(dataset.X.shape[1])
        if side * side != dataset.X.shape[1]:
            raise DataError(f"{source!r} holds rows of {dataset.X.shape[1]} values, not images; save images as "
                            "an array of shape (n, height, width)")
        shape = (side, side)
    if len(shape) != 2:
        raise DataError(f"{source!r} holds images of shape {tuple(shape)}; denoise takes grayscale (height, width)")
    return dataset.X.reshape((-1, *shape)), None


def run(args) -> None:
    from ..applications.denoising import add_noise, denoise, denoising_scores
    from ..data.images import write_images
    from ._common import write_array

    if args.add_noise is not None and not args.add_noise >= 0:
        raise ValueError(f"--add-noise is a standard deviation, 0 or more; got {args.add_noise}")
    if args.n < 1:
        raise ValueError(f"-n is a number of images per row, 1 or more; got {args.n}")
    if args.output.suffix.lower() == ".npy":
        check_output_path(args.output, args.force)
    check_output_path(args.grid, args.force, PLOT_SUFFIXES, option="--grid")
    est = load_model(args.model, "AutoEncoder", "aekit denoise")
    noisy, names = read_image_stack(args.input, est)
    clean = None
    if args.add_noise is not None:
        if args.clean is not None:
            raise ValueError("give either --clean or --add-noise, not both")
        clean, noisy = noisy, add_noise(noisy, args.add_noise, random_state=args.seed)
    elif args.clean is not None:
        clean = read_image_stack(args.clean, est)[0]
    denoised = denoise(est, noisy)
    with written_or_removed() as written:
        if args.output.suffix.lower() == ".npy":
            written.append(write_array(args.output, denoised, force=args.force))
        else:
            written.extend(write_images(args.output, denoised, names=names, overwrite=args.force))
        if args.grid is not None:
            _grid(args, noisy, denoised, clean)
    print(f"denoised {len(noisy)} images of {noisy.shape[1]}x{noisy.shape[2]}; wrote {args.output}")
    if clean is not None:
        s = denoising_scores(noisy, denoised, clean)
        print(f"PSNR  noisy {s['psnr_noisy']:.2f} dB -> denoised {s['psnr_denoised']:.2f} dB")
        print(f"SSIM  noisy {s['ssim_noisy']:.3f}    -> denoised {s['ssim_denoised']:.3f}")


def _grid(args, noisy, denoised, clean) -> None:
    """Rows of noisy, denoised (and clean) images, drawn to --grid."""
    import matplotlib

    matplotlib.use("Agg")
    from .. import plots

    n = max(1, min(args.n, len(noisy)))
    rows, labels = [noisy[:n], denoised[:n]], ["noisy", "denoised"]
    if clean is not None:
        rows, labels = rows + [clean[:n]], labels + ["clean"]
    ax = plots.plot_image_rows(rows, noisy.shape[1:], labels)
    plots.save_figure(ax, args.grid)
