"""Probability distributions that scenario files can name, as a pydantic discriminated union.

Each distribution knows its mean and can draw a vector of samples from a generator that the caller
passes in (never a global one). A bare number in YAML is shorthand for ``{kind: fixed, value: x}``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from sim.model.values import number_only

# Strict: true/false and text ("3.0", "3,5") are errors where a number belongs.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False), BeforeValidator(number_only)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(number_only)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(number_only)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def mean(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value."""

    kind: Literal["fixed"] = "fixed"
    value: NonNeg

    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)


class Exponential(_Dist):
    """Exponential with the given mean (memoryless; the M/M/c check uses it)."""

    kind: Literal["exponential"] = "exponential"
    mean_value: Positive = Field(alias="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_value, n)


class LogNormal(_Dist):
    """Log-normal given by its own mean and standard deviation (not those of the log)."""

    kind: Literal["lognormal"] = "lognormal"
    mean_value: Positive = Field(alias="mean")
    sd: Positive

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean_value) ** 2)
        mu = math.log(self.mean_value) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)


class Gamma(_Dist):
    """Gamma given by its mean and standard deviation."""

    kind: Literal["gamma"] = "gamma"
    mean_value: Positive = Field(alias="mean")
    sd: Positive

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_value

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = (self.mean_value / self.sd) ** 2
        scale = self.sd**2 / self.mean_value
        return rng.gamma(shape, scale, n)


class Triangular(_Dist):
    """Triangular between low and high with the given mode."""

    kind: Literal["triangular"] = "triangular"
    low: NonNeg
    mode: NonNeg
    high: NonNeg

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("expected low <= mode <= high with low < high")
        return self

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)


class Uniform(_Dist):
    """Uniform between low and high."""

    kind: Literal["uniform"] = "uniform"
    low: NonNeg
    high: NonNeg

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError("expected low <= high")
        return self

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


class Empirical(_Dist):
    """Draws from a list of observed values, optionally weighted."""

    kind: Literal["empirical"] = "empirical"
    values: list[NonNeg] = Field(min_length=1)
    weights: list[NonNeg] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("expected as many weights as values")
            if sum(self.weights) <= 0:
                raise ValueError("expected weights with a positive sum")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        p: np.ndarray = w / w.sum()
        return p

    def mean(self) -> float:
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._p())


def _number_is_fixed(value: Any) -> Any:
    """Let a bare number stand for a fixed distribution."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "fixed", "value": value}
    return value


class _NumberShorthandSchema:
    """JSON Schema side of the shorthand: a bare number is accepted wherever a distribution is."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [{"type": "number", "minimum": 0}, handler(core_schema)]}


Distribution = Annotated[
    Fixed | Exponential | LogNormal | Gamma | Triangular | Uniform | Empirical,
    Field(discriminator="kind"),
    BeforeValidator(_number_is_fixed),
    _NumberShorthandSchema(),
]
