// The loss calculator of the website: vaebook/calculator.py's loss_assumptions in JavaScript
// (same inputs, same numbers; tests/test_site_browser.py compares them on many inputs).
(function () {
  "use strict";
  const RECON_LOSSES = { mse: "Gaussian", l1: "Laplace", bce: "Bernoulli" };
  const REDUCTIONS = ["sum", "batchmean", "mean"];
  const PIXEL_RANGES = { "0..1": 1, "-1..1": 2, "0..255": 255 };

  function positiveInt(value, name) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} must be a positive integer, got ${value}`);
    }
    return value;
  }

  function choice(value, name, choices) {
    if (!choices.includes(value)) {
      throw new Error(`${name} must be one of ${choices.map((c) => `'${c}'`).join(", ")}, got '${value}'`);
    }
    return value;
  }

  function g6(x) {
    return String(Number(x.toPrecision(6)));
  }

  // inputs: {recon_loss, recon_reduction, kl_reduction, kl_weight, image_shape: [..],
  //          batch_size, latent_dim, pixel_range}
  function compute(inputs) {
    choice(inputs.recon_loss, "recon_loss", Object.keys(RECON_LOSSES));
    choice(inputs.recon_reduction, "recon_reduction", REDUCTIONS);
    choice(inputs.kl_reduction, "kl_reduction", REDUCTIONS);
    choice(inputs.pixel_range, "pixel_range", Object.keys(PIXEL_RANGES));
    const klWeight = inputs.kl_weight;
    if (typeof klWeight !== "number" || !Number.isFinite(klWeight) || !(klWeight > 0)) {
      throw new Error(`kl_weight must be a finite number > 0, got ${klWeight}`);
    }
    const shape = inputs.image_shape;
    if (!Array.isArray(shape) || shape.length === 0) {
      throw new Error("image_shape must have at least one dimension");
    }
    shape.forEach((size) => positiveInt(size, "every entry of image_shape"));
    const batch = positiveInt(inputs.batch_size, "batch_size");
    const latents = positiveInt(inputs.latent_dim, "latent_dim");
    if (inputs.recon_loss === "bce" && inputs.pixel_range !== "0..1") {
      throw new Error(`binary cross-entropy needs targets in [0, 1]: choose pixel_range '0..1', not '${inputs.pixel_range}'`);
    }
    const dim = shape.reduce((a, b) => a * b, 1);
    const width = PIXEL_RANGES[inputs.pixel_range];
    const wRecon = { sum: 1, batchmean: 1 / batch, mean: 1 / (batch * dim) }[inputs.recon_reduction];
    const wKl = { sum: 1, batchmean: 1 / batch, mean: 1 / (batch * latents) }[inputs.kl_reduction];
    const ratio = (klWeight * wKl) / wRecon;
    const names = { sum: "1", batchmean: "1/B", mean: "1/(B·D)" };
    const klNames = { sum: "1", batchmean: "1/B", mean: "1/(B·L)" };
    const weights = `kl_weight·w_k/w_r = ${g6(klWeight)}·${klNames[inputs.kl_reduction]}/(${names[inputs.recon_reduction]})`;
    const result = {
      family: null, scale: null, scale_01: null, beta: 1.0,
      depends_on_batch_size: (inputs.recon_reduction === "sum") !== (inputs.kl_reduction === "sum"),
      depends_on_image_size: inputs.recon_reduction === "mean",
      depends_on_latent_dim: inputs.kl_reduction === "mean",
      collapse: null, dim: dim, ratio: ratio,
    };
    if (inputs.recon_loss === "mse") {
      const sigma = Math.sqrt(ratio / 2);
      result.family = "gaussian";
      result.scale = sigma;
      result.scale_01 = sigma / width;
      result.collapse = (sigma / width) ** 2 >= dim / 4 ? "all" : "some";
      result.formula = `σ² = ${weights} / 2 = ${g6(ratio / 2)}`;
    } else if (inputs.recon_loss === "l1") {
      result.family = "laplace";
      result.scale = ratio;
      result.scale_01 = ratio / width;
      result.formula = `b = ${weights} = ${g6(ratio)}`;
    } else {
      result.family = "bernoulli";
      result.beta = ratio;
      result.formula = `β = ${weights} = ${g6(ratio)}`;
    }
    return result;
  }

  function describe(r) {
    const changes = [];
    if (r.depends_on_batch_size) changes.push("the batch size");
    if (r.depends_on_image_size) changes.push("the image size");
    if (r.depends_on_latent_dim) changes.push("the number of latents");
    const moves = changes.length ? `It changes with ${changes.join(" and ")}: the same code is another model at other sizes.`
      : "It does not change with the batch size, the image size or the number of latents.";
    let text;
    if (r.family === "gaussian") {
      text = `A Gaussian decoder with σ = ${g6(r.scale)} in the data's units, σ = ${g6(r.scale_01)} on pixels rescaled to [0, 1]; β = 1.`;
      text += r.collapse === "all"
        ? ` Collapse: every latent of a linear VAE collapses, on any data (σ² ≥ D/4 = ${g6(r.dim / 4)}, the largest variance pixels in [0, 1] can have in any direction).`
        : ` Collapse: a latent collapses when the data's variance along it (pixels on [0, 1]) is below σ² = ${g6(r.scale_01 ** 2)}.`;
    } else if (r.family === "laplace") {
      text = `A Laplace decoder with b = ${g6(r.scale)} in the data's units, b = ${g6(r.scale_01)} on pixels rescaled to [0, 1] (noise variance 2b²); β = 1.`;
    } else {
      text = `A Bernoulli decoder with β = ${g6(r.beta)}: ${r.beta > 1 ? "a stronger" : r.beta < 1 ? "a weaker" : "the same"} pull towards the prior than the ELBO's.`;
    }
    return `${text} ${moves} (${r.formula})`;
  }

  function readForm(form) {
    const value = (name) => form.elements[name].value.trim();
    const number = (name) => (value(name) === "" ? NaN : Number(value(name)));
    return {
      recon_loss: value("recon_loss"), recon_reduction: value("recon_reduction"),
      kl_reduction: value("kl_reduction"), pixel_range: value("pixel_range"),
      kl_weight: number("kl_weight"),
      image_shape: value("image_shape").split(/[,×x ]+/).filter((s) => s !== "").map(Number),
      batch_size: number("batch_size"), latent_dim: number("latent_dim"),
    };
  }

  function wire(form) {
    if (form.dataset.wired) return;
    form.dataset.wired = "yes";
    const defaults = JSON.parse(form.dataset.defaults || "{}");
    Object.entries(defaults).forEach(([name, v]) => { form.elements[name].value = v; });
    const output = document.getElementById(`${form.id}-result`);
    const update = () => {
      try {
        output.textContent = describe(compute(readForm(form)));
      } catch (error) {
        output.textContent = `Cannot compute: ${error.message}.`;
      }
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("submit", (event) => event.preventDefault());
    update();
  }

  window.vaebookLossCalculator = { compute: compute, describe: describe };
  document.querySelectorAll("form.vaebook-loss-calculator").forEach(wire);
})();
