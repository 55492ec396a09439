import type { Db } from './db';
import { ExperimentRepo } from './experiments';
import { RunRepo } from './runs';
import { RunSearcher } from './run-search';
import { LoggedModelRepo } from './logged-models';

/** The tracking side of the store: experiments, runs (with search), MLflow 3 logged models. */
export class TrackingStore {
  readonly experiments: ExperimentRepo;
  readonly runs: RunRepo;
  readonly search: RunSearcher;
  readonly loggedModels: LoggedModelRepo;

  constructor(readonly db: Db) {
    this.experiments = new ExperimentRepo(db);
    this.runs = new RunRepo(db, this.experiments);
    this.search = new RunSearcher(db, this.runs);
    this.loggedModels = new LoggedModelRepo(db, this.experiments);
  }
}
