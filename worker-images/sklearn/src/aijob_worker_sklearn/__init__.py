"""scikit-learn runners for the aijob worker: one module per model type.

Each runner is registered under the `aijob.runners` entry-point group in this
package's pyproject.toml; the shared runtime (`aijob_worker`) finds them there.
"""
