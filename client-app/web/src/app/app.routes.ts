import type { Routes } from '@angular/router';
import { authGuard, guestGuard } from './core/session/auth-guards';

export const routes: Routes = [
  {
    path: 'login',
    canActivate: [guestGuard],
    title: 'Sign in · Picard',
    loadComponent: () => import('./features/auth/pages/login').then((m) => m.Login),
  },
  {
    path: 'signup',
    canActivate: [guestGuard],
    title: 'Sign up · Picard',
    loadComponent: () => import('./features/auth/pages/signup').then((m) => m.Signup),
  },
  {
    path: '',
    canActivate: [authGuard],
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'memories' },
      {
        path: 'memories',
        title: 'Memories · Picard',
        loadComponent: () => import('./features/memories/pages/memory-list').then((m) => m.MemoryList),
      },
      {
        path: 'memories/new',
        title: 'New memory · Picard',
        loadComponent: () => import('./features/memories/pages/memory-editor').then((m) => m.MemoryEditor),
      },
      {
        path: 'memories/:id/edit',
        title: 'Edit memory · Picard',
        loadComponent: () => import('./features/memories/pages/memory-editor').then((m) => m.MemoryEditor),
      },
      {
        path: 'memories/:id',
        title: 'Memory · Picard',
        loadComponent: () => import('./features/memories/pages/memory-detail').then((m) => m.MemoryDetail),
      },
      {
        path: 'search',
        title: 'Search · Picard',
        loadComponent: () => import('./features/search/pages/search').then((m) => m.Search),
      },
      {
        path: 'groups',
        title: 'Groups · Picard',
        loadComponent: () => import('./features/groups/pages/groups').then((m) => m.Groups),
      },
      {
        path: 'transfer',
        title: 'Import & export · Picard',
        loadComponent: () => import('./features/transfer/pages/transfer').then((m) => m.Transfer),
      },
      {
        path: 'personas',
        title: 'Personas · Picard',
        loadComponent: () => import('./features/personas/pages/personas').then((m) => m.Personas),
      },
      {
        path: 'personas/:userId',
        title: 'Ask a persona · Picard',
        loadComponent: () => import('./features/personas/pages/persona-ask').then((m) => m.PersonaAsk),
      },
      {
        path: 'activity',
        title: 'Activity · Picard',
        loadComponent: () => import('./features/activity/pages/activity').then((m) => m.Activity),
      },
      {
        path: 'account',
        title: 'Account · Picard',
        loadComponent: () => import('./features/account/pages/account').then((m) => m.Account),
      },
    ],
  },
  {
    path: '**',
    title: 'Not found · Picard',
    loadComponent: () => import('./core/layout/not-found').then((m) => m.NotFound),
  },
];
