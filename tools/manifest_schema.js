#!/usr/bin/env node
/*
 * manifest_schema.js - check rendered Kubernetes manifests offline against
 * the API's schemas, and a Knative Service against what scorepoint needs.
 *
 *   node tools/manifest_schema.js NODE_MODULES FILE...     (FILE "-": stdin)
 *
 * NODE_MODULES holds the packages of tools/manifest_schema/package-lock.json
 * (tests/e2e/manifests.sh installs them with `npm ci`): kubernetes-models
 * (the Kubernetes OpenAPI schemas, compiled into validators), and the
 * Knative and Gateway API models generated from those projects' CRDs.  Each
 * YAML document must be an object whose apiVersion and kind have a model
 * (an unknown kind is refused) and which its schema accepts: required
 * fields, types, enums and formats.  The schemas do not refuse unknown
 * fields, as the API server does not.
 *
 * A Knative Service must also fit the container (deploy/knative/README.md):
 * one container, containerConcurrency = its WORKERS, no PORT of its own
 * (Knative sets it), readiness and liveness probes on GET /health,
 * min-scale 0, a non-root uid, and every claim mounted read-only.
 *
 * Prints a line per object; exits 1 when any is refused (each reason on a
 * line "FILE: KIND NAME: reason"), 2 on bad usage.
 */
"use strict";
const fs = require("fs");
const path = require("path");

/* Where each API group's models are: [group, package]; "" is the core
 * group, and any other group is looked for in kubernetes-models. */
const PACKAGES = [
	["serving.knative.dev", "@kubernetes-models/knative"],
	["gateway.networking.k8s.io", "@kubernetes-models/gateway-api"],
	["", "kubernetes-models"],
];

function usage() {
	process.stderr.write("usage: node tools/manifest_schema.js NODE_MODULES FILE...\n");
	process.exit(2);
}

/* The model class of apiVersion and kind, or a reason it has none. */
function model(modules, apiVersion, kind) {
	if (typeof apiVersion !== "string" || !/^([a-z0-9.-]+\/)?v[0-9]+([a-z]+[0-9]+)?$/.test(apiVersion))
		return { why: `apiVersion ${JSON.stringify(apiVersion)} is not GROUP/VERSION` };
	if (typeof kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(kind))
		return { why: `kind ${JSON.stringify(kind)} is not a kind's name` };
	const slash = apiVersion.indexOf("/");
	const group = slash < 0 ? "" : apiVersion.slice(0, slash);
	const pkg = (PACKAGES.find(([g]) => g === group) || PACKAGES[PACKAGES.length - 1])[1];
	const file = path.join(modules, pkg, apiVersion, kind + ".js");
	if (!fs.existsSync(file))
		return { why: `no schema for ${kind} in ${apiVersion} (an unknown kind or API version)` };
	const cls = require(file)[kind];
	return cls && typeof cls === "function" ? { cls } : { why: `${file} has no model ${kind}` };
}

const get = (o, keys) => keys.reduce((v, k) => (v && typeof v === "object" ? v[k] : undefined), o);

/* A Knative Service's fit with the container: [what, check] pairs, each
 * check true when the Service meets it. */
const KNATIVE_FIT = [
	["one container", (s) => get(s, ["spec", "template", "spec", "containers"])?.length === 1],
	["containerConcurrency equals the container's WORKERS", (s) => {
		const env = get(s, ["spec", "template", "spec", "containers", 0, "env"]) || [];
		const w = env.find((e) => e.name === "WORKERS");
		return w && String(get(s, ["spec", "template", "spec", "containerConcurrency"])) === w.value;
	}],
	["no PORT in env (Knative sets it from containerPort)", (s) =>
		!(get(s, ["spec", "template", "spec", "containers", 0, "env"]) || []).some((e) => e.name === "PORT")],
	["readinessProbe on GET /health", (s) =>
		get(s, ["spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "path"]) === "/health"],
	["livenessProbe on GET /health", (s) =>
		get(s, ["spec", "template", "spec", "containers", 0, "livenessProbe", "httpGet", "path"]) === "/health"],
	["autoscaling.knative.dev/min-scale is \"0\" (scale to zero)", (s) =>
		get(s, ["spec", "template", "metadata", "annotations", "autoscaling.knative.dev/min-scale"]) === "0"],
	["runAsNonRoot with the image's uid 10001", (s) => {
		const sc = get(s, ["spec", "template", "spec", "containers", 0, "securityContext"]) || {};
		return sc.runAsNonRoot === true && sc.runAsUser === 10001;
	}],
	["every persistentVolumeClaim read-only, and mounted read-only", (s) => {
		const spec = get(s, ["spec", "template", "spec"]) || {};
		const claims = (spec.volumes || []).filter((v) => v.persistentVolumeClaim);
		const mounts = get(spec, ["containers", 0, "volumeMounts"]) || [];
		return claims.every((v) => v.persistentVolumeClaim.readOnly === true &&
			mounts.filter((m) => m.name === v.name).every((m) => m.readOnly === true));
	}],
];

/* The reasons obj is refused ([] when it is not). */
function check(modules, obj) {
	if (!obj || typeof obj !== "object" || Array.isArray(obj))
		return ["not an object"];
	const m = model(modules, obj.apiVersion, obj.kind);
	if (m.why)
		return [m.why];
	const why = [];
	try {
		new m.cls(obj).validate();
	} catch (e) {
		why.push(...String(e.message).split(", "));
	}
	if (obj.apiVersion === "serving.knative.dev/v1" && obj.kind === "Service")
		for (const [what, ok] of KNATIVE_FIT)
			if (!ok(obj))
				why.push(`not: ${what}`);
	return why;
}

function main(argv) {
	if (argv.length < 2)
		usage();
	const modules = path.resolve(argv[0]);
	const YAML = require(path.join(modules, "yaml"));
	let bad = 0, n = 0;
	for (const file of argv.slice(1)) {
		const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
		for (const doc of YAML.parseAllDocuments(text)) {
			if (doc.errors.length) {
				console.log(`${file}: YAML: ${doc.errors[0].message.split("\n")[0]}`);
				bad++;
				continue;
			}
			const obj = doc.toJS();
			if (obj === null)
				continue;
			const name = `${obj.kind} ${get(obj, ["metadata", "name"])}`;
			const why = check(modules, obj);
			n++;
			if (why.length)
				bad++;
			console.log(why.length ? why.map((w) => `${file}: ${name}: ${w}`).join("\n") : `ok ${name}`);
		}
	}
	if (!n && !bad) {
		console.log("no object found");
		bad++;
	}
	process.exit(bad ? 1 : 0);
}

main(process.argv.slice(2));
