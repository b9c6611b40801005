mod receiver; // the embedded receiver and `cakemock listen` over loopback sockets
mod support; // shared test utilities: TLS pair, raw hyper client, signed delivery headers
