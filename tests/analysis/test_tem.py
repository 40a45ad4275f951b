"""TEM micrograph reading and particle sizing against synthetic micrographs of known truth."""
import struct
import subprocess
import sys
import tracemalloc
from functools import lru_cache

import numpy as np
import pytest
import tifffile
from PIL import Image

from analysis.io import detect_format, read
from analysis.result import InputError
from analysis.runner import render_figure, run_files
from analysis.synthetic.paper import TABLE1_BY_CODE
from analysis.synthetic.tem import synthetic_micrograph, write_tem_dm, write_tem_tiff
from analysis.tem import ACCEPTED_RGB, REJECTED_RGB, particle_sizes

CODES = ("NC12.8", "NC8.3", "NC6.4")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


@lru_cache(maxsize=None)
def micrograph(code: str, **kwargs):
    # 0.25 nm pixels put ~25 px across NC6.4 particles, as at a suitable magnification.
    return synthetic_micrograph(code, seed=7, size_px=1024, pixel_size_nm=0.25, **kwargs)


@lru_cache(maxsize=None)
def measured(code: str, **kwargs):
    mic, truth = micrograph(code, **kwargs)
    return particle_sizes(mic), truth


def write_oversized_tiff_header(path, width: int, height: int) -> None:
    """A tiny TIFF whose header claims a width x height 8-bit image in one strip."""
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
               (273, 4, 128), (277, 3, 1), (278, 4, height), (279, 4, width * height)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, value in entries:
        ifd += struct.pack("<HHI", tag, typ, 1) + (struct.pack("<HH", value, 0) if typ == 3
                                                   else struct.pack("<I", value))
    ifd += struct.pack("<I", 0)
    body = b"II*\x00" + struct.pack("<I", 8) + ifd
    path.write_bytes(body + b"\0" * (128 + 64 - len(body)))


# --- accuracy on synthetic micrographs (Table 1 sizes, noise, blur, touching pairs) ---

@pytest.mark.parametrize("code", CODES)
def test_mean_diameter_within_5_percent(code):
    result, truth = measured(code)
    assert result.quantities["mean_diameter_nm"].value == pytest.approx(truth["mean_diameter_nm"], rel=0.05)


@pytest.mark.parametrize("code", CODES)
def test_synthetic_sizes_follow_table1(code):
    truth = micrograph(code)[1]
    row = TABLE1_BY_CODE[code]
    three_se = 3 * row.sd_diameter_nm / np.sqrt(truth["count"])
    assert truth["mean_diameter_nm"] == pytest.approx(row.mean_diameter_nm, abs=three_se)
    assert truth["sd_diameter_nm"] == pytest.approx(row.sd_diameter_nm, rel=0.2)


@pytest.mark.parametrize("code", CODES)
def test_particle_count_within_10_percent(code):
    result, truth = measured(code)
    assert truth["n_touching_pairs"] >= 5
    assert result.quantities["n_particles"].value == pytest.approx(truth["count"], rel=0.10)


@pytest.mark.parametrize("code", CODES)
def test_sd_diameter_close_to_truth(code):
    result, truth = measured(code)
    sd = result.quantities["sd_diameter_nm"]
    assert sd.value == pytest.approx(truth["sd_diameter_nm"], rel=0.25)
    assert sd.stderr is not None and 0 < sd.stderr < sd.value


def test_touching_pairs_are_split_into_two_particles():
    split, truth = measured("NC8.3", touching_fraction=0.4)
    assert split.quantities["n_particles"].value == pytest.approx(truth["count"], rel=0.10)


def test_unsplit_touching_pairs_are_rejected_as_clusters():
    unsplit = particle_sizes(micrograph("NC8.3", touching_fraction=0.4)[0], split_touching=False)
    split, _ = measured("NC8.3", touching_fraction=0.4)
    assert unsplit.fit["n_rejected_cluster"] >= 10
    assert unsplit.quantities["n_particles"].value < split.quantities["n_particles"].value - 15


def test_bright_particles_on_dark_background_are_detected():
    result, truth = measured("NC10.4", dark_particles=False)
    assert result.fit["dark_particles"] is False
    assert result.quantities["mean_diameter_nm"].value == pytest.approx(truth["mean_diameter_nm"], rel=0.05)


def test_dense_superlattice_covering_most_of_the_frame_is_measured():
    # Particles are the majority class here, so "particles cover less area" would fail.
    result, truth = measured("NC8.3", layout="superlattice")
    assert truth["area_fraction"] > 0.5
    assert result.fit["dark_particles"] is True
    assert result.quantities["n_particles"].value == pytest.approx(truth["count"], rel=0.10)
    assert result.quantities["mean_diameter_nm"].value == pytest.approx(truth["mean_diameter_nm"], rel=0.05)


def test_edge_touching_particles_are_rejected():
    result, truth = measured("NC12.8")
    assert result.fit["n_rejected_edge"] >= truth["n_placed"] - truth["count"] - 3


def test_overlay_outlines_counted_and_rejected_particles():
    result, _ = measured("NC12.8")
    overlay = result.extras["overlay"]
    assert overlay.dtype == np.uint8 and overlay.ndim == 3 and max(overlay.shape[:2]) <= 1024
    assert np.all(overlay == ACCEPTED_RGB, axis=-1).sum() > 1000
    assert np.all(overlay == REJECTED_RGB, axis=-1).sum() > 100


def test_feret_diameters_of_round_particles_equal_their_diameter():
    from analysis.data import Micrograph
    from skimage.draw import disk

    image = np.full((640, 640), 1000.0)
    for k in range(16):  # 60 px (= 6 nm) disks on a 4 x 4 grid; digitisation adds ~1 px
        image[disk((80 + 160 * (k // 4), 80 + 160 * (k % 4)), 30)] = 600.0
    result = particle_sizes(Micrograph(image=image, pixel_size_nm=0.1))
    q = result.quantities
    assert q["n_particles"].value == 16
    assert q["feret_max_mean_nm"].value == pytest.approx(6.0, rel=0.04)
    assert q["feret_min_mean_nm"].value == pytest.approx(6.0, rel=0.04)
    assert q["mean_aspect_ratio"].value == pytest.approx(1.0, abs=0.04)  # hexagons: 1.15


def test_max_diameter_below_min_diameter_is_refused():
    mic, _ = micrograph("NC8.3")
    with pytest.raises(InputError, match="min_diameter_nm < max_diameter_nm"):
        particle_sizes(mic, min_diameter_nm=5.0, max_diameter_nm=4.0)


def test_min_diameter_above_all_particles_asks_to_check_parameters():
    mic, _ = synthetic_micrograph("NC6.4", size_px=256, n_particles=20, seed=1)
    with pytest.raises(InputError, match="check pixel_size_nm, min_diameter_nm"):
        particle_sizes(mic, min_diameter_nm=20.0)


def test_blank_image_is_refused():
    mic, _ = synthetic_micrograph("NC6.4", size_px=64, n_particles=1)
    mic.image = np.full((64, 64), 100.0, np.float32)
    with pytest.raises(InputError, match="blank"):
        particle_sizes(mic)


# --- reader: calibration ---

def test_imagej_tiff_calibration_is_read(tmp_path):
    path = write_tem_tiff(tmp_path / "nc.tif", "NC8.3", size_px=128, n_particles=5)
    mic = read(str(path))
    assert mic.pixel_size_nm == pytest.approx(0.25, rel=1e-6)
    assert mic.metadata["calibration"].startswith("ImageJ")
    assert (mic.metadata["width"], mic.metadata["height"], mic.metadata["dtype"]) == (128, 128, "uint16")


def test_resolution_tags_in_centimetres_are_a_calibration(tmp_path):
    path = write_tem_tiff(tmp_path / "nc.tiff", "NC8.3", size_px=128, n_particles=5,
                          calibration="resolution", pixel_size_nm=0.4)
    assert read(str(path)).pixel_size_nm == pytest.approx(0.4, rel=1e-6)


def test_imagej_micron_unit_is_converted_to_nm(tmp_path):
    path = tmp_path / "low_mag.tif"
    tifffile.imwrite(path, np.zeros((32, 32), np.uint16), imagej=True, resolution=(2.5, 2.5),
                     metadata={"unit": "micron"})
    assert read(str(path)).pixel_size_nm == pytest.approx(400.0)


def test_72_dpi_print_resolution_is_not_a_calibration(tmp_path):
    path = tmp_path / "print.tif"
    tifffile.imwrite(path, np.zeros((32, 32), np.uint8), resolution=(72, 72), resolutionunit="INCH")
    with pytest.raises(InputError, match="no pixel-size calibration"):
        read(str(path))


@pytest.mark.parametrize("version", [3, 4])
def test_dm_pixels_calibration_and_voltage_are_read(tmp_path, version):
    path = write_tem_dm(tmp_path / f"nc.dm{version}", "NC8.3", version=version, size_px=96,
                        n_particles=4, seed=3, pixel_size_nm=0.3)
    expected, _ = synthetic_micrograph("NC8.3", size_px=96, n_particles=4, seed=3, pixel_size_nm=0.3)
    mic = read(str(path))
    assert mic.pixel_size_nm == pytest.approx(0.3, rel=1e-6) and mic.metadata["voltage_kv"] == 200.0
    np.testing.assert_array_equal(mic.image, expected.image)


def test_pixel_size_option_overrides_file_calibration(tmp_path):
    path = write_tem_tiff(tmp_path / "nc.tif", "NC8.3", size_px=128, n_particles=5)
    mic = read(str(path), pixel_size_nm="0.3")
    assert mic.pixel_size_nm == 0.3 and mic.metadata["file_pixel_size_nm"] == pytest.approx(0.25)


def test_calibrated_tiff_runs_end_to_end_with_figure(tmp_path):
    path = write_tem_tiff(tmp_path / "nc.tif", "NC6.4", size_px=512, n_particles=40)
    result = run_files("tem.particle_sizes", [str(path)])
    assert result.inputs[0]["format"] == "tem-image"
    assert result.quantities["mean_diameter_nm"].value == pytest.approx(6.4, rel=0.1)
    assert render_figure(result, "png")[:8] == b"\x89PNG\r\n\x1a\n"


# --- reader: bad input ---

def test_uncalibrated_tiff_without_pixel_size_exits_2(tmp_path):
    path = write_tem_tiff(tmp_path / "raw.tif", "NC8.3", size_px=128, n_particles=5, calibration="none")
    proc = run_cli("run", "tem.particle_sizes", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    expected = f"error: {path}: the image has no pixel-size calibration; give pixel_size_nm"
    assert proc.stderr.strip() == expected


def test_50000_pixel_square_tiff_is_refused_exit_2(tmp_path):
    path = tmp_path / "huge.tif"
    write_oversized_tiff_header(path, 50_000, 50_000)
    proc = run_cli("read", str(path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "50,000 x 50,000 pixels" in proc.stderr and "limit is 100 megapixels" in proc.stderr


def test_50000_pixel_square_tiff_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.tif"
    write_oversized_tiff_header(path, 50_000, 50_000)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="megapixels"):
            read(str(path), pixel_size_nm=0.2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # decoding would need 2.5 GB


def test_png_without_pixel_size_is_refused(tmp_path):
    path = tmp_path / "screenshot.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(path)
    with pytest.raises(InputError, match="no pixel-size calibration; give pixel_size_nm"):
        read(str(path))


def test_png_with_pixel_size_is_read_as_grey(tmp_path):
    path = tmp_path / "rgb.png"
    Image.fromarray(np.full((32, 48, 3), 90, np.uint8)).save(path)
    mic = read(str(path), pixel_size_nm=0.5)
    assert mic.image.shape == (32, 48) and mic.pixel_size_nm == 0.5 and float(mic.image.mean()) == 90.0


def test_truncated_tiff_is_refused_with_one_line_exit_2(tmp_path):
    path = write_tem_tiff(tmp_path / "cut.tif", "NC8.3", size_px=256, n_particles=5)
    path.write_bytes(path.read_bytes()[:300])  # the header survives, the pixels do not
    proc = run_cli("read", str(path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "the TIFF file is truncated" in proc.stderr


def test_tiff_with_garbage_after_the_magic_is_refused(tmp_path):
    path = tmp_path / "bad.tif"
    path.write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match="damaged or unreadable"):
        read(str(path))


def test_damaged_dm3_is_refused(tmp_path):
    path = tmp_path / "bad.dm3"
    path.write_bytes(struct.pack(">III", 3, 100, 1) + b"\x01\x00" + b"\xff" * 60)
    with pytest.raises(InputError, match="DM file is damaged or unreadable"):
        read(str(path))


def test_text_file_named_tif_is_not_claimed(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("2theta,intensity\n10,5\n")
    with pytest.raises(InputError, match="format not recognised"):
        detect_format(str(path))
