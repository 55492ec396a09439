import type { Db } from '../../store/db';
import { now } from '../../store/db';
import type { AuditLog } from '../../store/audit';
import type { Actor, RegistryStore } from '../../store/registry';
import { ApiError, invalid } from '../../util/errors';
import { evaluateMetric, evaluateTag, evaluateValidation, normalizeConfig, type ConditionResult, type GateConfig } from './conditions';
import { GateRepo, type StoredGate } from './repository';

/** The alias a promotion gate guards. */
export const GATED_ALIAS = 'champion';

export interface GateCheck {
  name: string;
  version: string;
  run_id: string | null;
  /** False when the model has no gate: then it passes with no results. */
  configured: boolean;
  passed: boolean;
  results: ConditionResult[];
}

export interface AliasMove {
  name: string;
  alias: string;
  version: string;
  previous: string | null;
  /** The gate's verdict when the alias is gated (champion), else null. */
  gate: GateCheck | null;
  /** True when the gate failed and the move went ahead on an override (with its reason in the audit log). */
  overridden: boolean;
}

/**
 * Promotion gates: what a model version must show (metrics of its run, version tags, the data validation of its
 * pipeline run) before `@champion` may point at it. Every route that moves an alias goes through `setAlias`.
 */
export class PromotionGates {
  private readonly repo: GateRepo;

  constructor(
    private readonly db: Db,
    private readonly registry: RegistryStore,
    private readonly audit: AuditLog,
  ) {
    this.repo = new GateRepo(db);
  }

  /** The model's gate, or null; 404 when the model does not exist. */
  get(name: string): StoredGate | null {
    this.registry.getModel(name);
    return this.repo.get(name);
  }

  set(name: string, config: Partial<GateConfig>, who: Actor): StoredGate {
    this.registry.getModel(name);
    const c = normalizeConfig(config);
    this.db.transaction(() => {
      const before = this.repo.get(name);
      this.repo.put(name, c, who.actor, now());
      this.audit.append({ ...who, action: 'gate.set', objectType: 'registered_model', objectId: name, before: before ? configOf(before) : null, after: c });
    })();
    return this.repo.get(name)!;
  }

  clear(name: string, who: Actor): boolean {
    this.registry.getModel(name);
    return this.db.transaction(() => {
      const before = this.repo.get(name);
      if (!before) return false;
      this.repo.delete(name);
      this.audit.append({ ...who, action: 'gate.clear', objectType: 'registered_model', objectId: name, before: configOf(before), after: null });
      return true;
    })();
  }

  /** Checks a version against its model's gate (a dry run of a promotion). */
  check(name: string, version: string): GateCheck {
    const mv = this.registry.getVersion(name, version);
    const gate = this.repo.get(mv.name);
    const base = { name: mv.name, version: mv.version, run_id: mv.run_id ?? null };
    if (!gate) return { ...base, configured: false, passed: true, results: [] };
    const metrics = mv.run_id ? this.repo.runMetrics(mv.run_id) : null;
    const tags = new Map((mv.tags ?? []).map((t) => [t.key, t.value]));
    const results: ConditionResult[] = [...gate.metrics.map((c) => evaluateMetric(c, metrics)), ...gate.tags.map((c) => evaluateTag(c, tags))];
    if (gate.data_validation !== 'off') {
      const pipelineRun = mv.run_id ? this.repo.pipelineRunOf(mv.run_id) : null;
      const v = evaluateValidation(gate.data_validation, pipelineRun, pipelineRun ? this.repo.validations(pipelineRun) : []);
      if (v) results.push(v);
    }
    return { ...base, configured: true, passed: results.every((r) => r.passed), results };
  }

  /**
   * Points `alias` at `version`. For @champion the gate is checked first: a failure is refused (409, naming each
   * failed condition and its actual value) unless `override` is set, which needs a reason and is audited
   * (`alias.gate_override`: who, from, to, why, the failed conditions). A refusal is audited too (`alias.gate_refused`).
   */
  setAlias(name: string, alias: string, version: string, who: Actor, override = false): AliasMove {
    const mv = this.registry.getVersion(name, version);
    const previous = this.currentVersion(mv.name, alias);
    const gated = alias.toLowerCase() === GATED_ALIAS;
    if (!gated || previous === mv.version) {
      this.registry.setAlias(mv.name, alias, mv.version, who);
      return { name: mv.name, alias, version: mv.version, previous, gate: null, overridden: false };
    }
    const reason = who.reason?.trim() ?? '';
    if (override && !reason) throw invalid(`An override of the promotion gate of '${mv.name}' needs a reason (X-MLOps-Reason header, 'reason' field or --reason)`);
    const gate = this.check(mv.name, mv.version);
    const failed = gate.results.filter((r) => !r.passed);
    const id = `${mv.name}@${alias}`;
    if (failed.length && !override) {
      this.audit.append({ ...who, action: 'alias.gate_refused', objectType: 'alias', objectId: id, before: previous === null ? null : { version: previous }, after: { version: mv.version, failed: failed.map(brief) } });
      throw new ApiError(
        'RESOURCE_CONFLICT',
        `Promotion gate refused moving ${id} to version ${mv.version}: ${failed.map((r) => r.message).join('; ')}. To promote anyway, override with a reason.`,
        { gate },
      );
    }
    this.db.transaction(() => {
      this.registry.setAlias(mv.name, alias, mv.version, who);
      if (failed.length) {
        this.audit.append({ ...who, action: 'alias.gate_override', objectType: 'alias', objectId: id, before: previous === null ? null : { version: previous }, after: { version: mv.version, failed: failed.map(brief) } });
      }
    })();
    return { name: mv.name, alias, version: mv.version, previous, gate, overridden: failed.length > 0 };
  }

  private currentVersion(name: string, alias: string): string | null {
    const r = this.db.prepare('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?').pluck().get(name, alias) as number | undefined;
    return r === undefined ? null : String(r);
  }
}

const configOf = (g: StoredGate): GateConfig => ({ metrics: g.metrics, tags: g.tags, data_validation: g.data_validation });
const brief = (r: ConditionResult) => ({ condition: r.condition, actual: r.actual });
