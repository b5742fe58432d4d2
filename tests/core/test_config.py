import pytest

from neurosig.core.config import (
    JobConfig,
    PipelineConfig,
    apply_overrides,
    build_job,
    build_pipeline,
    load_config,
)
from neurosig.core.errors import ConfigError

YAML = """
name: t
source: {type: simulate, duration: 4.0, n_channels: 19}
stages:
  - {type: bandpass, l_freq: 1.0, h_freq: 30.0}
  - {type: notch, freqs: [50.0]}
sink: {type: hdf5, path: out.h5}
"""


def test_yaml_text_and_file_load_the_same(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(YAML)
    assert load_config(path) == load_config(YAML)
    assert isinstance(load_config(YAML), PipelineConfig)


def test_overrides_by_index_by_type_and_section():
    raw = load_config(YAML).model_dump()
    raw = apply_overrides(raw, ["stages.0.h_freq=20", "stages.notch.freqs=[50, 100]", "sink.path=x.h5"])
    assert raw["stages"][0]["h_freq"] == 20
    assert raw["stages"][1]["freqs"] == [50, 100]
    assert raw["sink"]["path"] == "x.h5"


@pytest.mark.parametrize(
    "override, message",
    [
        ("nonsense", "key=value"),
        ("stages.7.h_freq=3", "out of range"),
        ("stages.lowpass.h_freq=3", "exactly one item"),
    ],
)
def test_bad_overrides_say_what_to_write(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(YAML, [override])


def test_unknown_stage_lists_valid_names_and_suggests():
    with pytest.raises(
        ConfigError, match=r"unknown stage type 'bandpas'.*'bandpass'.*Did you mean 'bandpass'"
    ):
        build_pipeline(load_config(YAML, ["stages.0.type=bandpas"]))


def test_unknown_parameter_in_yaml_lists_valid_ones():
    with pytest.raises(ConfigError, match=r"no parameter 'hfreq'.*\['l_freq', 'h_freq', 'order'\]"):
        build_pipeline(
            {"source": {"type": "simulate"}, "stages": [{"type": "bandpass", "l_freq": 1, "hfreq": 3}]}
        )


@pytest.mark.parametrize("text", ["- a\n- b", "source: {}", "source: {type: simulate}\nextra: 1", "a: [b"])
def test_malformed_files_raise_config_error(text):
    with pytest.raises(ConfigError):
        load_config(text)


def test_missing_file_raises_config_error():
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("no/such/pipeline.yaml")


def test_jobs_and_pipelines_are_told_apart():
    job = load_config({"job": {"type": "nothing"}})
    assert isinstance(job, JobConfig)
    with pytest.raises(ConfigError, match="is a job"):
        build_pipeline(job)
    with pytest.raises(ConfigError, match="not a job"):
        build_job(YAML)
    with pytest.raises(ConfigError, match="unknown job type 'nothing'"):
        build_job(job)


def test_suites_hold_pipelines_and_jobs_addressable_by_name():
    from neurosig.core.config import SuiteConfig, build_suite

    raw = {
        "pipelines": [{**load_config(YAML).model_dump(), "name": "eeg"}, {"name": "j", "job": {"type": "x"}}]
    }
    suite = load_config(raw, ["pipelines.eeg.sink.path=y.h5"])
    assert isinstance(suite, SuiteConfig)
    assert suite.pipelines[0].sink.params["path"] == "y.h5"
    assert isinstance(suite.pipelines[1], JobConfig)
    with pytest.raises(ConfigError, match="unknown job type 'x'"):
        build_suite(suite)
    with pytest.raises(ConfigError, match="suite"):
        build_pipeline(suite)
    with pytest.raises(ConfigError, match="valid suite"):
        load_config({"pipelines": []})
