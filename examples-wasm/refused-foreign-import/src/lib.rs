//! `refused-foreign-import`: a test fixture, a workflow component that
//! imports `acme:fixture/lookup`, an interface no Continuum host provides.
//! Hosts must refuse it at start-up and at deploy, naming the workflow and
//! the interface (the guest build checks that its contract check refuses
//! it too). Its `run` would look a SKU up and return the count.

wit_bindgen::generate!({
    path: ["../../sdk/wit", "wit"],
    // As the SDK does: the vendored WASI marks `wasi:clocks/timezone`
    // unstable, and the `wasi:cli` worlds need it to resolve.
    features: ["clocks-timezone"],
    world: "acme:fixture/refused",
    generate_all,
});


struct Fixture;

impl Guest for Fixture {
    fn run(input: Vec<u8>) -> Result<Vec<u8>, WorkflowError> {
        let sku = String::from_utf8_lossy(&input).into_owned();
        Ok(acme::fixture::lookup::find(&sku).to_string().into_bytes())
    }
}

export!(Fixture);
