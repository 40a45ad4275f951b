"""TEM particle sizing on a full camera frame."""
from __future__ import annotations

from bench import benchmark


@benchmark("tem.particle_sizes", target_s=3.0, repeat=5)
def particle_sizes_2048():
    """tem.particle_sizes on a 2048 x 2048 NC8.3 micrograph (~600 particles, 10% touching)."""
    from analysis.synthetic.tem import synthetic_micrograph
    from analysis.tem import particle_sizes

    mic, _ = synthetic_micrograph("NC8.3", size_px=2048, n_particles=600, seed=0)
    return lambda: particle_sizes(mic)
