// SPDX-License-Identifier: GPL-2.0
// Offline toolkit for the contract tests and the gas bench: compiles the
// contracts with the npm solc's bundled compiler, runs them on an
// in-process EVM (@ethereumjs/vm), encodes calls with a small ABI coder
// (only the types these contracts use) and decodes custom errors.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

import { createVM, runTx } from '@ethereumjs/vm';
import { createLegacyTx } from '@ethereumjs/tx';
import { createBlock } from '@ethereumjs/block';
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { SimpleStateManager } from '@ethereumjs/statemanager';
import { Address, createAccount, privateToAddress, bytesToHex, hexToBytes } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3.js';

export const here = dirname(fileURLToPath(import.meta.url));
export const contractsDir = join(here, '..');
export const top = join(contractsDir, '..', '..');

// ------------------------------------------------------------- compile ---

let compiled;
let solc;
export async function loadSolc() {
	// soljson.js is large and slow to load: only when compiling.
	if (!solc)
		solc = (await import('solc')).default;
	return solc;
}

// Sources, settings and the compiler version, without loading the compiler.
function solcVersion() {
	return JSON.parse(readFileSync(join(contractsDir, 'node_modules', 'solc', 'package.json'), 'utf8')).version;
}

export async function compile() {
	if (compiled)
		return compiled;
	const sources = {};
	for (const f of ['AttestioFeedVerifier.sol', 'TemperatureOption.sol'])
		sources[f] = { content: readFileSync(join(contractsDir, f), 'utf8') };
	const input = {
		language: 'Solidity',
		sources,
		settings: {
			optimizer: { enabled: true, runs: 200 },
			evmVersion: 'cancun',
			outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.methodIdentifiers'] } },
		},
	};
	// solc-js takes ~10 s: cache the output by input and compiler version.
	const key = createHash('sha256').update(solcVersion() + JSON.stringify(input)).digest('hex');
	const cacheDir = join(top, 'build', 'contracts');
	const cacheFile = join(cacheDir, `solc-${key.slice(0, 16)}.json`);
	let out;
	if (existsSync(cacheFile)) {
		out = JSON.parse(readFileSync(cacheFile, 'utf8'));
	} else {
		out = JSON.parse((await loadSolc()).compile(JSON.stringify(input)));
		mkdirSync(cacheDir, { recursive: true });
		writeFileSync(cacheFile, JSON.stringify(out));
	}
	const errors = (out.errors || []).filter((e) => e.severity === 'error' ||
		e.severity === 'warning');
	if (errors.length)
		throw new Error('solc:\n' + errors.map((e) => e.formattedMessage).join('\n'));
	compiled = {
		version: solcVersion(),
		verifier: out.contracts['AttestioFeedVerifier.sol'].AttestioFeedVerifier,
		option: out.contracts['TemperatureOption.sol'].TemperatureOption,
	};
	return compiled;
}

// ----------------------------------------------------------------- ABI ---

export const keccak = (b) => keccak_256(b);
export const hex = (b) => bytesToHex(b);
export const unhex = (h) => hexToBytes(h.startsWith('0x') ? h : '0x' + h);

function word(v) {
	let x = BigInt(v);
	if (x < 0n)
		x += 1n << 256n;
	if (x < 0n || x >= 1n << 256n)
		throw new Error(`ABI value out of range: ${v}`);
	return x.toString(16).padStart(64, '0');
}

// Tuples here have static fields only, so they are static too.
function isDynamic(type) {
	return type === 'bytes' || type === 'string' || type.endsWith('[]');
}

// Encode one head or tail value.
function encodeValue(type, v, comps) {
	if (type === 'tuple')
		return comps.map((c) => encodeValue(c.type, v[c.name], c.components)).join('');
	if (type === 'address')
		return word(BigInt(v));
	if (type === 'bool')
		return word(v ? 1 : 0);
	if (type === 'bytes32')
		return (typeof v === 'string' ? v.replace(/^0x/, '') : Buffer.from(v).toString('hex')).padEnd(64, '0');
	if (/^u?int\d+$/.test(type))
		return word(v);
	if (type === 'bytes') {
		const b = typeof v === 'string' ? v.replace(/^0x/, '') : Buffer.from(v).toString('hex');
		const n = b.length / 2;
		return word(n) + b.padEnd(Math.ceil(n / 32) * 64, '0');
	}
	if (type.endsWith('[]')) {
		const inner = type.slice(0, -2);
		return word(v.length) + v.map((x) => encodeValue(inner, x)).join('');
	}
	throw new Error(`ABI type not supported: ${type}`);
}

export function encodeArgs(inputs, args) {
	let head = '';
	let tail = '';
	const headLen = inputs.reduce((n, i) => n + (i.type === 'tuple' ? 32 * i.components.length : 32), 0);
	inputs.forEach((inp, k) => {
		if (isDynamic(inp.type)) {
			head += word(headLen + tail.length / 2);
			tail += encodeValue(inp.type, args[k], inp.components);
		} else {
			head += encodeValue(inp.type, args[k], inp.components);
		}
	});
	return head + tail;
}

function decodeWord(type, w, data) {
	const x = BigInt('0x' + w);
	if (type === 'address')
		return '0x' + w.slice(24);
	if (type === 'bool')
		return x !== 0n;
	if (type === 'bytes32')
		return '0x' + w;
	if (/^uint\d+$/.test(type))
		return x;
	if (/^int\d+$/.test(type))
		return x >= 1n << 255n ? x - (1n << 256n) : x;
	if (type === 'string') {
		const off = Number(x) * 2;
		const n = Number(BigInt('0x' + data.slice(off, off + 64)));
		return Buffer.from(data.slice(off + 64, off + 64 + 2 * n), 'hex').toString('utf8');
	}
	if (type === 'address[]') {
		const off = Number(x) * 2;
		const n = Number(BigInt('0x' + data.slice(off, off + 64)));
		const r = [];
		for (let i = 0; i < n; i++)
			r.push('0x' + data.slice(off + 64 + i * 64 + 24, off + 128 + i * 64));
		return r;
	}
	throw new Error(`ABI decode not supported: ${type}`);
}

// Decode outputs: static values (tuples flattened into an object).
export function decodeOutputs(outputs, data) {
	const res = [];
	let pos = 0;
	for (const o of outputs) {
		if (o.type === 'tuple') {
			const obj = {};
			for (const c of o.components) {
				obj[c.name] = decodeWord(c.type, data.slice(pos, pos + 64), data);
				pos += 64;
			}
			res.push(obj);
		} else {
			res.push(decodeWord(o.type, data.slice(pos, pos + 64), data));
			pos += 64;
		}
	}
	return res;
}

function signature(item) {
	const t = (i) => (i.type === 'tuple' ? '(' + i.components.map(t).join(',') + ')' : i.type);
	return `${item.name}(${item.inputs.map(t).join(',')})`;
}

export function selector(item) {
	return hex(keccak(new TextEncoder().encode(signature(item)))).slice(2, 10);
}

// ----------------------------------------------------------------- EVM ---

export const DAY = 86400n;
export const T0 = 1_800_000_000n;	// the chain's clock at the start

// Test accounts: fixed private keys, funded at genesis.
export function account(n) {
	const pk = new Uint8Array(32);
	pk[31] = n;
	pk[30] = 0xa7;
	return { pk, address: new Address(privateToAddress(pk)), hex: hex(privateToAddress(pk)) };
}

export class RevertError extends Error {
	constructor(name, args, data, gas) {
		super(`reverted: ${name}(${args.map(String).join(', ')})`);
		this.errorName = name;
		this.args = args;
		this.data = data;
		this.gas = gas;
	}
}

export class Chain {
	static async create() {
		const c = new Chain();
		c.common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
		// Accounts and storage in plain maps (no Merkle trie: no state
		// root is needed after Byzantium), with checkpoints for reverts.
		c.vm = await createVM({ common: c.common,
			stateManager: new SimpleStateManager({ common: c.common }) });
		c.now = T0;
		for (let i = 1; i <= 8; i++) {
			const a = account(i);
			await c.vm.stateManager.putAccount(a.address,
				createAccount({ nonce: 0n, balance: 10n ** 24n }));
		}
		c.errors = {};
		const { verifier, option } = await compile();
		for (const abi of [verifier.abi, option.abi])
			for (const e of abi.filter((x) => x.type === 'error'))
				c.errors[selector(e)] = e;
		c.errors['08c379a0'] = { name: 'Error', inputs: [{ type: 'string' }] };
		c.errors['4e487b71'] = { name: 'Panic', inputs: [{ type: 'uint256' }] };
		return c;
	}

	// Blocks differ only by their timestamp (building one is slow: cache).
	block() {
		if (!this.blocks)
			this.blocks = new Map();
		let b = this.blocks.get(this.now);
		if (!b) {
			b = createBlock({ header: { timestamp: this.now, number: 1n,
				gasLimit: 60_000_000n, baseFeePerGas: 1n } }, { common: this.common });
			this.blocks.set(this.now, b);
		}
		return b;
	}

	async balance(addr) {
		const a = await this.vm.stateManager.getAccount(typeof addr === 'string' ?
			new Address(unhex(addr)) : addr);
		return a ? a.balance : 0n;
	}

	// Send a transaction; returns { gas, ret (hex, no 0x), logs } or throws
	// RevertError with the decoded custom error.
	async send(from, to, data, value = 0n) {
		let r;
		if (this.fast && to) {
			// A message call without a signed transaction (no nonce, no
			// fee): for walks over many states, where only effects count.
			r = await this.vm.evm.runCall({ caller: from.address, origin: from.address,
				to, value, data: unhex(data), block: this.block(), gasLimit: 30_000_000n });
			r.totalGasSpent = r.execResult.executionGasUsed;
		} else {
			const acct = await this.vm.stateManager.getAccount(from.address);
			const tx = createLegacyTx({ nonce: acct.nonce, gasPrice: 1n, gasLimit: 30_000_000n,
				to: to ?? undefined, value, data: unhex(data) }, { common: this.common }).sign(from.pk);
			r = await runTx(this.vm, { tx, block: this.block(), skipBlockGasLimitValidation: true });
		}
		const ex = r.execResult;
		const ret = Buffer.from(ex.returnValue).toString('hex');
		if (ex.exceptionError) {
			const sel = ret.slice(0, 8);
			const e = this.errors[sel];
			if (!e)
				throw new RevertError(ex.exceptionError.error, [], ret, r.totalGasSpent);
			throw new RevertError(e.name, e.name === 'Error' ? [ret] :
				decodeOutputs(e.inputs, ret.slice(8)), ret, r.totalGasSpent);
		}
		return { gas: r.totalGasSpent, ret, created: r.createdAddress, logs: ex.logs || [] };
	}

	async deploy(from, art, args = []) {
		const ctor = art.abi.find((x) => x.type === 'constructor');
		const data = art.evm.bytecode.object + (ctor ? encodeArgs(ctor.inputs, args) : '');
		const r = await this.send(from, null, data);
		return new Contract(this, art, r.created, r.gas);
	}
}

export class Contract {
	constructor(chain, art, address, deployGas) {
		this.chain = chain;
		this.art = art;
		this.address = address;
		this.hex = address.toString();
		this.deployGas = deployGas;
	}

	fn(name) {
		const f = this.art.abi.find((x) => x.type === 'function' && x.name === name);
		if (!f)
			throw new Error(`no function ${name}`);
		return f;
	}

	calldata(name, args) {
		const f = this.fn(name);
		return selector(f) + encodeArgs(f.inputs, args);
	}

	// A transaction: { gas, out: decoded outputs }.
	async tx(from, name, args = [], value = 0n) {
		const r = await this.chain.send(from, this.address, this.calldata(name, args), value);
		return { gas: r.gas, out: decodeOutputs(this.fn(name).outputs, r.ret), logs: r.logs };
	}

	// A read: runs as a call, changes nothing.
	async call(name, args = []) {
		const r = await this.chain.vm.evm.runCall({ to: this.address,
			caller: account(1).address, data: unhex(this.calldata(name, args)),
			block: this.chain.block(), gasLimit: 30_000_000n });
		if (r.execResult.exceptionError)
			throw new Error(`call ${name} reverted`);
		const out = decodeOutputs(this.fn(name).outputs,
			Buffer.from(r.execResult.returnValue).toString('hex'));
		return out.length === 1 ? out[0] : out;
	}
}

// ------------------------------------------------- liboracle (C) side ---

export const mkreport = join(top, 'build', 'tests', 'contracts', 'mkreport');
export const attestio = join(top, 'build', 'bin', 'attestio');

// Run the C tool that signs cores with liboracle; returns its JSON.
export function cSign(args) {
	return JSON.parse(execFileSync(mkreport, args, { encoding: 'utf8' }));
}
