"""``aekit compress MODEL DATA -o data.aez`` and ``aekit decompress MODEL data.aez -o out.npy``."""
from __future__ import annotations

from pathlib import Path

from ..exceptions import DataError
from ._common import (ARRAY_SUFFIXES, add_data_argument, add_data_dir_option, add_force_option, add_model_argument,
                      check_output_path, load_model, model_input, write_array)


def register(sub) -> None:
    p = sub.add_parser(
        "compress", help="compress DATA into an .aez file with a model's quantised codes",
        description="Encode DATA, quantise each code value to --bits bits, entropy-code them (lzma or zlib) and "
                    "write an .aez file (header with format version, model fingerprint and checksums). Prints bytes "
                    "per sample, the ratio to the raw data and to gzip of it, and the reconstruction MSE and PSNR.")
    add_model_argument(p)
    add_data_argument(p)
    p.add_argument("-o", "--output", required=True, type=Path, help="compressed file to write (.aez)")
    p.add_argument("--bits", type=int, default=8, help="bits per code value, 1 to 16 (default 8)")
    p.add_argument("--codec", default="lzma", help="lzma | zlib (default lzma)")
    add_data_dir_option(p)
    add_force_option(p)
    p.set_defaults(func=run_compress)

    d = sub.add_parser("decompress", help="decode an .aez file with the model that wrote it",
                       description="Decode an .aez file written by 'aekit compress' with the same model.")
    add_model_argument(d, help="the model file that compressed the data")
    d.add_argument("input", metavar="FILE", type=Path, help=".aez file written by aekit compress")
    d.add_argument("-o", "--output", required=True, type=Path, help="reconstructions: .npy or .csv")
    add_force_option(d)
    d.set_defaults(func=run_decompress)


def run_compress(args) -> None:
    from .._atomic import atomic_path
    from ..applications.compression import compress, compression_stats, decompress
    from ..datasets import load_dataset

    check_output_path(args.output, args.force)
    est = load_model(args.model, "AutoEncoder", "aekit compress")
    X = model_input(load_dataset(args.data, data_dir=args.data_dir), est)
    blob = compress(est, X, bits=args.bits, codec=args.codec)
    with atomic_path(args.output, overwrite=args.force) as tmp:
        Path(tmp).write_bytes(blob)
    s = compression_stats(X, decompress(est, blob), blob)
    print(f"compressed {s['n_samples']} samples to {s['bytes']} bytes ({args.bits} bits per code value, "
          f"{args.codec}); wrote {args.output}")
    print(f"  {s['bytes_per_sample']:.2f} bytes/sample (entropy of the codes: {s['entropy_bytes_per_sample']:.2f})")
    print(f"  ratio to raw {s['raw_format']} ({s['raw_bytes_per_sample']:.0f} bytes/sample): {s['ratio_to_raw']:.1f}x; "
          f"to gzip of raw ({s['gzip_bytes_per_sample']:.1f} bytes/sample): {s['ratio_to_gzip']:.1f}x")
    print(f"  reconstruction MSE {s['mse']:.5f}, PSNR {s['psnr']:.2f} dB")


def run_decompress(args) -> None:
    from ..applications.compression import decompress

    check_output_path(args.output, args.force, ARRAY_SUFFIXES)
    if not args.input.is_file():
        raise DataError(f"no such file: {str(args.input)!r}")
    est = load_model(args.model, "AutoEncoder", "aekit decompress")
    X_hat = decompress(est, args.input.read_bytes(), source=repr(str(args.input)))
    write_array(args.output, X_hat, force=args.force)
    print(f"decompressed {len(X_hat)} samples; wrote {args.output}")
