from shunt.bench.soak import Sample, memory_growth_mb, render


def sample(t, front, *workers, errors=0):
    return Sample(
        elapsed_s=t, requests=int(t) * 10, errors=errors, frontdoor_mb=front, workers_mb=workers
    )


def test_growth_is_measured_after_warm_up():
    samples = [sample(0, 40, 30), *(sample(t, 70, 45 + t / 100) for t in range(30, 330, 30))]
    front, worker = memory_growth_mb(samples)
    assert front == 0
    assert 2.3 < worker < 2.5
    assert "flat" in render(samples)


def test_growing_memory_is_called_out():
    samples = [sample(t, 50 + t, 40) for t in range(0, 100, 10)]
    assert memory_growth_mb(samples)[0] > 5
    assert "GROWING" in render(samples)


def test_too_few_samples_is_no_growth():
    assert memory_growth_mb([sample(0, 1, 1)]) == (0.0, 0.0)
