/**
 * The two baselines of the load benchmark (bench/load.ts), each run as its own process like our
 * server: `bare` is node:http answering every POST with a fixed GetProcessDetails SOAP response
 * (the request body is read, nothing else); `soap` is the `soap` package's server on our WSDL with
 * a GetProcessDetails that returns a fixed result string. Both answer on the service path and
 * print `listening <port>`.
 *
 *   node --import tsx bench/baseline-server.ts bare|soap <file with the fixed response or result>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import soap from 'soap';
import { SERVICE_PATH } from '../src/protocol/operations.ts';
import { renderWsdl } from '../src/protocol/wsdl.ts';

const [mode, file] = process.argv.slice(2);
const fixed = readFileSync(file!, 'utf8');

if (mode === 'bare') {
  const body = Buffer.from(fixed);
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
} else if (mode === 'soap') {
  const server = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  server.keepAliveTimeout = 5000;
  const operations = { GetProcessDetails: () => ({ GetProcessDetailsResult: fixed }) };
  const services = { WSMailUpImport: { WSMailUpImportSoap: operations, WSMailUpImportSoap12: operations } };
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    soap.listen(server, SERVICE_PATH, services, renderWsdl(`http://127.0.0.1:${port}${SERVICE_PATH}`), () => {
      process.stdout.write(`listening ${port}\n`);
    });
  });
} else {
  process.stderr.write('usage: baseline-server.ts bare|soap <file>\n');
  process.exit(2);
}
